// deploy: One deployment: realise, switch the profile, activate, and roll back when activation
// fails.
import { dirname } from "node:path";
import { DeploymentFailed, HailError, asHailError, describeError } from "../errors.js";
import type { Log } from "../log.js";
import { activateCommand, deleteGenerationsCommand, realiseCommand, setProfileCommand, switchGenerationCommand } from "../nix/commands.js";
import { realiseFromCache } from "../nix/realise.js";
import { checkSpace, dryRunCommand, parseDryRun } from "../nix/disk.js";
import { generationsToDelete } from "../profile/keep-generations.js";
import type { ProfileBefore } from "../profile/links.js";
import { currentGeneration, listGenerations, readProfileLink, readProfileTarget } from "../profile/links.js";
import type { ProfileFs } from "../profile/fs.js";
import type { ProcessRunner } from "../nix/runner.js";
import type { ActivationPurpose } from "../nixos/activation.js";
import { runActivationCommand, switchToConfigurationCommand } from "../nixos/activation.js";
import type { ActivationOutcome } from "../nixos/inhibited-switch.js";
import { runTargetActivation } from "../nixos/inhibited-switch.js";
import type { InterruptedSwitch } from "../nixos/interrupted-switch.js";
import { checkNixosSystem } from "../nixos/system.js";
import { hailEnv } from "./hail-env.js";
import { checkHomeManagerGeneration, homeManagerActivateCommand } from "./home-manager.js";
import { checkProfileDirs, runnableStorePath } from "../profile/trust.js";
import type { Hooks } from "./hooks.js";
import type { Target } from "../resolve/target.js";

/**
 * The options a deployment runs with. PassOptions adds the pass's own, and AgentConfig (what
 * toAgentConfig reads from the option table) extends that: each option is declared once, here
 * or there, and handed down whole, never copied field by field.
 */
export interface DeployOptions {
  /** --activate-timeout: activation, health check, hooks and rollback each get this long */
  activateTimeoutMs: number;
  healthCheck: string[] | null;
  rollback: boolean;
  /** refuse to realise when the store's filesystem would keep less than this (bytes) */
  minFreeBytes: number;
  /** after a success, keep only the newest N generations (null: keep all) */
  keepGenerations: number | null;
  hooks: Hooks;
  /** --confirm-timeout: Hydra must answer again within this after activation, or roll back (null: off) */
  confirmTimeoutMs: number | null;
}

export interface DeployDeps {
  runner: ProcessRunner;
  /** the profile links, the store's free space and (--nixos) the systems switched between */
  fs: ProfileFs;
  log: Log;
  storeDir: string;
  /** the Hydra build id hail knows for a store path (HAIL_BUILD_ID after a rollback) */
  buildIdOf?: (storePath: string) => Promise<number | null>;
  /** records the activation's process group in the state file (null: it ended) */
  trackActivation?: (pgid: number | null) => Promise<void>;
  /** asked right before the switch: why not to switch now (a hold given meanwhile), or null */
  heldNow?: () => Promise<string | null>;
  /** --confirm-timeout: resolves once Hydra answered; throws when it did not within the time */
  confirmReachable?: (target: Target, timeoutMs: number) => Promise<void>;
}

/** The build being deployed, as activation scripts see it. */
export interface DeployBuild {
  buildId: number | null;
  storePath: string;
}

export type DeployResult =
  /** `inhibitedSwitch`: a NixOS system whose switch its inhibitors refused, made the boot default instead */
  | { kind: "deployed"; inhibitedSwitch?: true }
  /** `error` names the rollback's failure too, when there was one */
  | { kind: "failed"; error: HailError; rolledBack: boolean }
  /** a hold given while the build was realised: the profile was not touched */
  | { kind: "held"; reason: string };

/** The commands a deployment runs, in order: what `plan` shows. */
export function deploymentCommands(target: Target, storePath: string) {
  const activation = target.nixos
    ? switchToConfigurationCommand(storePath, target.nixos.action)
    : target.homeManager
      ? homeManagerActivateCommand(storePath)
      : activateCommand(target.profile.path);
  return [realiseCommand(storePath), setProfileCommand(target.profile.path, storePath), activation];
}

/** Realise, switch, then activate and check; on failure go back to `previous` (docs/safety.md, "Safety"). */
export async function deploy(
  deps: DeployDeps,
  target: Target,
  build: DeployBuild,
  previous: ProfileBefore,
  opts: DeployOptions,
): Promise<DeployResult> {
  try {
    // nix-env does not create the parent of a nested profile name (hail/myapp)
    await deps.fs.mkdirs(dirname(target.profile.path));
    // after mkdirs: a directory someone else made first, in a shared parent, is refused too
    await checkProfileDirs(target.profile.path, deps.fs);
    deps.log.info(`realising ${build.storePath} (substituting from the configured caches, never building here)`);
    await realiseFromCache(deps.runner, build.storePath);
    if (target.nixos) await checkNixosSystem(deps.fs, build.storePath);
    if (target.homeManager) await checkHomeManagerGeneration(build.storePath);
    const held = deps.heldNow ? await deps.heldNow() : null;
    if (held !== null) {
      deps.log.info(`not switching: ${held}`);
      return { kind: "held", reason: held };
    }
    deps.log.info(`switching ${target.profile.path} to ${build.storePath}`);
    await deps.runner.runNix(setProfileCommand(target.profile.path, build.storePath));
  } catch (err) {
    return fail(deps, target, build, previous, opts, err);
  }
  return finishDeployment(deps, target, build, previous, opts);
}

/**
 * Activation and health check of a profile already switched to `build` (also used to converge:
 * `switched` is what became of a NixOS switch an earlier run started, nixos/interrupted-switch.ts).
 */
export async function finishDeployment(
  deps: DeployDeps,
  target: Target,
  build: DeployBuild,
  previous: ProfileBefore,
  opts: DeployOptions,
  switched: InterruptedSwitch = { kind: "not-run" },
): Promise<DeployResult> {
  try {
    if (switched.kind === "failed") throw switched.error;
    const activated = switched.kind === "not-run" ? await activate(deps, target, build, opts.activateTimeoutMs) : null;
    if (opts.healthCheck) await runHealthCheck(deps, target, build, opts.healthCheck, opts.activateTimeoutMs);
    if (opts.confirmTimeoutMs && deps.confirmReachable) await deps.confirmReachable(target, opts.confirmTimeoutMs);
    return activated?.inhibitedSwitch ? { kind: "deployed", inhibitedSwitch: true } : { kind: "deployed" };
  } catch (err) {
    return fail(deps, target, build, previous, opts, err);
  }
}

async function fail(
  deps: DeployDeps,
  target: Target,
  build: DeployBuild,
  previous: ProfileBefore,
  opts: DeployOptions,
  caught: unknown,
): Promise<DeployResult> {
  const err = asHailError(caught);
  deps.log.error(`deployment of ${build.storePath} failed: ${err.message}`, { errorKind: err.kind });
  // also after a transient error: a profile that moved is put back (realise failures never move it)
  if (!opts.rollback) return { kind: "failed", error: err, rolledBack: false };
  // the rollback's lines carry the build rolled back to as buildId, and the failed one beside it
  const toBuildId = previous.storePath !== null && deps.buildIdOf ? await deps.buildIdOf(previous.storePath) : null;
  const to = { buildId: toBuildId, storePath: previous.storePath };
  const log = deps.log.child({ buildId: toBuildId, storePath: previous.storePath, failedBuildId: build.buildId, failedStorePath: build.storePath });
  const rollback = await rollBack({ ...deps, log }, target, previous, { failed: build, to }, opts.activateTimeoutMs);
  if (rollback.kind !== "failed") return { kind: "failed", error: err, rolledBack: rollback.kind === "done" };
  const where = rollback.profileAt ?? "no store path";
  const message = `${err.message}; rollback failed: ${rollback.message}; the profile is at ${where}: repair it by hand (nix-env --profile ${target.profile.path} --list-generations)`;
  log.error(`rollback of ${target.profile.path} from ${describeBuild(build)} to ${describeBuild(to)} failed: ${rollback.message}; the profile is at ${where}`, { errorKind: err.kind });
  return { kind: "failed", error: new DeploymentFailed(message, err.kind), rolledBack: false };
}

/** "build 101 (/nix/store/…)", or the path alone when hail knows no Hydra build id for it. */
function describeBuild(build: { buildId: number | null; storePath: string | null }): string {
  const path = build.storePath ?? "no store path";
  return build.buildId === null ? path : `build ${build.buildId} (${path})`;
}

export async function activate(
  deps: DeployDeps,
  target: Target,
  build: DeployBuild,
  timeoutMs: number,
  purpose: ActivationPurpose = "deploy",
): Promise<ActivationOutcome> {
  const log = deps.log.child({ source: "activation" });
  // every activation (deploy, rollback, convergence, start-up) runs through here: nothing
  // runs unless the profile leads to a store path through trusted directories only
  const storePath = await runnableStorePath(target.profile.path, deps.storeDir, deps.fs);
  deps.log.info(`activating ${target.profile.path}`, { storePath: build.storePath });
  const env = hailEnv(target.profile.path, build.storePath, build.buildId);
  const opts = { env, timeoutMs, onLine: (line: string) => log.info(line), ...(deps.trackActivation ? { onGroup: deps.trackActivation } : {}) };
  if (target.homeManager) {
    // a Home Manager generation's `activate` sits at the top of the store path the trusted links lead to
    await runActivationCommand(deps.runner, homeManagerActivateCommand(storePath), opts);
    return { inhibitedSwitch: false };
  }
  return runTargetActivation(deps, target, storePath, purpose, opts);
}

async function runHealthCheck(deps: DeployDeps, target: Target, build: DeployBuild, argv: string[], timeoutMs: number) {
  const [file, ...args] = argv;
  if (file === undefined) return;
  const log = deps.log.child({ source: "health-check" });
  deps.log.info(`running health check ${argv.join(" ")}`);
  await deps.runner.runActivation({ file, args }, "health check", {
    env: hailEnv(target.profile.path, build.storePath, build.buildId),
    timeoutMs,
    onLine: (line) => log.info(line),
  });
}

type RollbackOutcome = { kind: "none" } | { kind: "done" } | { kind: "failed"; message: string; profileAt: string | null };

/**
 * Back to exactly what was there before the attempt: the same generation (by number, not a
 * blind --rollback), the same plain link for a profile that had no generations, or no profile
 * for one that did not exist; then re-activate it. A profile that never moved (realise failed)
 * is left alone: its services were never touched. A rollback that fails is reported, never
 * thrown: the attempt must still be recorded.
 */
async function rollBack(
  deps: DeployDeps,
  target: Target,
  previous: ProfileBefore,
  builds: { failed: DeployBuild; to: { buildId: number | null; storePath: string | null } },
  timeoutMs: number,
): Promise<RollbackOutcome> {
  const profile = target.profile.path;
  const now = await readProfileLink(profile, deps.fs);
  if (now === previous.link && (await readProfileTarget(profile, deps.storeDir, deps.fs)) === previous.storePath) return { kind: "none" };
  const from = `from ${describeBuild(builds.failed)}`;
  try {
    if (previous.link === null) {
      // There was no profile before: leave none, rather than a profile whose activation failed.
      deps.log.warn(`rolling back ${profile} ${from}: removing the profile, which did not exist before this attempt`);
      const generation = now === null ? null : await currentGeneration(profile, deps.fs);
      await deps.fs.remove(profile);
      if (generation !== null) await deps.fs.remove(`${profile}-${generation}-link`);
      return { kind: "done" };
    }
    if (previous.generation !== null) {
      deps.log.warn(`rolling back ${profile} ${from} to generation ${previous.generation}, ${describeBuild(builds.to)}`);
      await deps.runner.runNix(switchGenerationCommand(profile, previous.generation));
    } else {
      deps.log.warn(`rolling back ${profile} ${from} to the link it was before: ${previous.link}, ${describeBuild(builds.to)}`);
      await replaceLink(deps.fs, profile, previous.link);
    }
  } catch (err) {
    return { kind: "failed", message: describeError(err), profileAt: await readProfileTarget(profile, deps.storeDir, deps.fs).catch(() => null) };
  }
  const storePath = (await readProfileTarget(profile, deps.storeDir, deps.fs)) ?? profile;
  const buildId = deps.buildIdOf ? await deps.buildIdOf(storePath) : null;
  try {
    await activate(deps, target, { buildId, storePath }, timeoutMs, "restore");
  } catch (err) {
    return { kind: "failed", message: `re-activating ${storePath} failed: ${describeError(err)}`, profileAt: storePath };
  }
  deps.log.info(`rolled back ${profile} to ${describeBuild({ buildId, storePath })}; ${describeBuild(builds.failed)} failed`);
  return { kind: "done" };
}

/** Points `path` at `target` in one rename: never a moment without the link. */
async function replaceLink(fs: ProfileFs, path: string, target: string): Promise<void> {
  const temp = `${path}.hail-rollback-${process.pid}`;
  await fs.remove(temp);
  await fs.symlink(target, temp);
  await fs.rename(temp, path);
}

/** --keep-generations: prune after a success, never the current generation or the rollback target. */
export async function pruneGenerations(deps: DeployDeps, target: Target, keep: number | null, rollbackTarget: number | null): Promise<void> {
  if (keep === null) return;
  const profile = target.profile.path;
  const doomed = generationsToDelete(await listGenerations(profile, deps.fs), keep, [await currentGeneration(profile, deps.fs), rollbackTarget]);
  if (doomed.length === 0) return;
  deps.log.info(`deleting generations ${doomed.join(", ")} of ${profile} (--keep-generations ${keep})`);
  try {
    await deps.runner.runNix(deleteGenerationsCommand(profile, doomed));
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    deps.log.warn(`could not delete old generations: ${err.message}`, { errorKind: err.kind });
  }
}

/** --min-free: what realising would add to the store, against the free space. */
export async function checkDiskSpace(deps: DeployDeps, storePath: string, minFreeBytes: number): Promise<void> {
  if (minFreeBytes <= 0) return;
  const { unpacked } = parseDryRun(await deps.runner.captureNix(dryRunCommand(storePath)));
  checkSpace(await deps.fs.freeBytes(deps.storeDir), unpacked, minFreeBytes, deps.storeDir);
}
