import { mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { HailError } from "../errors.js";
import type { Log } from "../log.js";
import { activateCommand, deleteGenerationsCommand, realiseCommand, setProfileCommand, switchGenerationCommand } from "../nix/commands.js";
import { checkSpace, dryRunCommand, freeBytes, parseDryRun } from "../nix/disk.js";
import { generationsToDelete } from "../nix/generations.js";
import { currentGeneration, listGenerations, readProfileTarget } from "../nix/profile.js";
import type { ProcessRunner } from "../nix/runner.js";
import type { ActivationPurpose } from "../nixos/activation.js";
import { activationCommandFor, switchToConfigurationCommand } from "../nixos/activation.js";
import { checkNixosSystem } from "../nixos/system.js";
import type { Hooks } from "./hooks.js";
import type { Target } from "./target.js";

export interface DeployOptions {
  activateTimeoutMs: number;
  healthCheck: string[] | null;
  rollback: boolean;
  /** refuse to realise when the store's filesystem would keep less than this (bytes) */
  minFreeBytes: number;
  /** after a success, keep only the newest N generations (null: keep all) */
  keepGenerations: number | null;
  hooks: Hooks;
  /** --confirm-timeout: Hydra must answer again within this after activation, or roll back */
  confirmTimeoutMs?: number | null;
}

export interface DeployDeps {
  runner: ProcessRunner;
  log: Log;
  storeDir: string;
  /** the Hydra build id hail knows for a store path (HAIL_BUILD_ID after a rollback) */
  buildIdOf?: (storePath: string) => Promise<number | null>;
  /** --confirm-timeout: resolves once Hydra answered; throws when it did not within the time */
  confirmReachable?: (target: Target, timeoutMs: number) => Promise<void>;
}

/** The build being deployed, as activation scripts see it. */
export interface DeployBuild {
  buildId: number | null;
  storePath: string;
}

export type DeployResult =
  | { kind: "deployed" }
  | { kind: "failed"; error: HailError; rolledBack: boolean };

/** The commands a deployment runs, in order: what `plan` shows. */
export function deploymentCommands(target: Target, storePath: string) {
  const activation = target.nixos ? switchToConfigurationCommand(storePath, target.nixos.action) : activateCommand(target.profile.path);
  return [realiseCommand(storePath), setProfileCommand(target.profile.path, storePath), activation];
}

/** SPEC §2.4–5: realise, switch, then activate and check; on failure go back to `previous`. */
export async function deploy(
  deps: DeployDeps,
  target: Target,
  build: DeployBuild,
  previous: number | null,
  opts: DeployOptions,
): Promise<DeployResult> {
  try {
    // nix-env does not create the parent of a nested profile name (hail/myapp)
    await mkdir(dirname(target.profile.path), { recursive: true });
    deps.log.info(`realising ${build.storePath} (substituting from the configured caches)`);
    await deps.runner.runNix(realiseCommand(build.storePath));
    if (target.nixos) await checkNixosSystem(build.storePath);
    deps.log.info(`switching ${target.profile.path} to ${build.storePath}`);
    await deps.runner.runNix(setProfileCommand(target.profile.path, build.storePath));
  } catch (err) {
    return fail(deps, target, build, previous, opts, err);
  }
  return finishDeployment(deps, target, build, previous, opts);
}

/** Activation and health check of a profile already switched to `build` (also used to converge). */
export async function finishDeployment(
  deps: DeployDeps,
  target: Target,
  build: DeployBuild,
  previous: number | null,
  opts: DeployOptions,
): Promise<DeployResult> {
  try {
    await activate(deps, target, build, opts.activateTimeoutMs);
    if (opts.healthCheck) await runHealthCheck(deps, target, build, opts.healthCheck, opts.activateTimeoutMs);
    if (opts.confirmTimeoutMs && deps.confirmReachable) await deps.confirmReachable(target, opts.confirmTimeoutMs);
    return { kind: "deployed" };
  } catch (err) {
    return fail(deps, target, build, previous, opts, err);
  }
}

async function fail(
  deps: DeployDeps,
  target: Target,
  build: DeployBuild,
  previous: number | null,
  opts: DeployOptions,
  err: unknown,
): Promise<DeployResult> {
  if (!(err instanceof HailError)) throw err;
  deps.log.error(`deployment of ${build.storePath} failed: ${err.message}`, { errorKind: err.kind });
  if (!opts.rollback) return { kind: "failed", error: err, rolledBack: false };
  return { kind: "failed", error: err, rolledBack: await rollBack(deps, target, previous, opts.activateTimeoutMs) };
}

export async function activate(
  deps: DeployDeps,
  target: Target,
  build: DeployBuild,
  timeoutMs: number,
  purpose: ActivationPurpose = "deploy",
): Promise<void> {
  const log = deps.log.child({ source: "activation" });
  deps.log.info(`activating ${target.profile.path}`, { storePath: build.storePath });
  const env = activationEnv(target, build);
  await deps.runner.runActivation(await activationCommandFor(target, build.storePath, purpose, env, deps.log), "activation", {
    env,
    timeoutMs,
    onLine: (line) => log.info(line),
  });
}

function activationEnv(target: Target, build: DeployBuild): Record<string, string> {
  return {
    HAIL_PROFILE: target.profile.path,
    HAIL_STORE_PATH: build.storePath,
    HAIL_BUILD_ID: build.buildId === null ? "" : String(build.buildId),
  };
}

async function runHealthCheck(deps: DeployDeps, target: Target, build: DeployBuild, argv: string[], timeoutMs: number) {
  const [file, ...args] = argv;
  if (file === undefined) return;
  const log = deps.log.child({ source: "health-check" });
  deps.log.info(`running health check ${argv.join(" ")}`);
  await deps.runner.runActivation({ file, args }, "health check", {
    env: activationEnv(target, build),
    timeoutMs,
    onLine: (line) => log.info(line),
  });
}

/**
 * Back to the exact generation from before the attempt (by number, not a blind --rollback),
 * and re-activate it. A profile that never moved (realise failed) is left alone: its services
 * were never touched. Returns whether the profile was changed back.
 */
async function rollBack(deps: DeployDeps, target: Target, previous: number | null, timeoutMs: number): Promise<boolean> {
  const profile = target.profile.path;
  const now = await currentGeneration(profile);
  if (now === previous) return false;
  if (previous === null) {
    // There was no profile before: leave none, rather than a profile whose activation failed.
    deps.log.warn(`rolling back: removing ${profile}, which did not exist before this attempt`);
    await rm(profile, { force: true });
    if (now !== null) await rm(`${profile}-${now}-link`, { force: true });
    return true;
  }
  deps.log.warn(`rolling back ${profile} to generation ${previous}`);
  await deps.runner.runNix(switchGenerationCommand(profile, previous));
  const storePath = (await readProfileTarget(profile, deps.storeDir)) ?? profile;
  const buildId = deps.buildIdOf ? await deps.buildIdOf(storePath) : null;
  try {
    await activate(deps, target, { buildId, storePath }, timeoutMs, "restore");
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    deps.log.error(`re-activating generation ${previous} after the rollback failed: ${err.message}`, { errorKind: err.kind });
  }
  return true;
}

/** --keep-generations: prune after a success, never the current generation or the rollback target. */
export async function pruneGenerations(deps: DeployDeps, target: Target, keep: number | null, rollbackTarget: number | null): Promise<void> {
  if (keep === null) return;
  const profile = target.profile.path;
  const doomed = generationsToDelete(await listGenerations(profile), keep, [await currentGeneration(profile), rollbackTarget]);
  if (doomed.length === 0) return;
  deps.log.info(`deleting generations ${doomed.join(", ")} of ${profile} (--keep-generations ${keep})`);
  try {
    await deps.runner.runNix(deleteGenerationsCommand(profile, doomed));
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    deps.log.warn(`could not delete old generations: ${err.message}`, { errorKind: err.kind });
  }
}

/** --min-free: what realising would add to the store, against the free space (SPEC §1). */
export async function checkDiskSpace(deps: DeployDeps, storePath: string, minFreeBytes: number): Promise<void> {
  if (minFreeBytes <= 0) return;
  const { unpacked } = parseDryRun(await deps.runner.captureNix(dryRunCommand(storePath)));
  checkSpace(await freeBytes(deps.storeDir), unpacked, minFreeBytes, deps.storeDir);
}
