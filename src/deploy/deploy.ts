import { rm } from "node:fs/promises";
import { HailError } from "../errors.js";
import type { Log } from "../log.js";
import { activateCommand, realiseCommand, setProfileCommand, switchGenerationCommand } from "../nix/commands.js";
import { currentGeneration, readProfileTarget } from "../nix/profile.js";
import type { ProcessRunner } from "../nix/runner.js";
import type { Resolution } from "./resolve.js";
import type { Target } from "./target.js";

export interface DeployOptions {
  activateTimeoutMs: number;
  healthCheck: string[] | null;
  rollback: boolean;
}

export interface DeployDeps {
  runner: ProcessRunner;
  log: Log;
  storeDir: string;
}

export type DeployResult =
  | { kind: "deployed" }
  | { kind: "failed"; error: HailError; rolledBack: boolean };

/** The commands a deployment runs, in order: what `plan` shows. */
export function deploymentCommands(target: Target, storePath: string) {
  return [
    realiseCommand(storePath),
    setProfileCommand(target.profile.path, storePath),
    activateCommand(target.profile.path),
  ];
}

/** SPEC §2.4–5: realise, switch, activate, health check; on failure go back to where we were. */
export async function deploy(
  deps: DeployDeps,
  target: Target,
  resolution: Resolution,
  opts: DeployOptions,
): Promise<DeployResult> {
  const profile = target.profile.path;
  const previous = await currentGeneration(profile);
  try {
    await deps.runner.runNix(realiseCommand(resolution.storePath));
    await deps.runner.runNix(setProfileCommand(profile, resolution.storePath));
    await activate(deps, target, { buildId: resolution.buildId, storePath: resolution.storePath }, opts.activateTimeoutMs);
    if (opts.healthCheck) await runHealthCheck(deps, target, resolution, opts);
    return { kind: "deployed" };
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    deps.log.error(`deployment of ${resolution.storePath} failed: ${err.message}`, { errorKind: err.kind });
    if (!opts.rollback) return { kind: "failed", error: err, rolledBack: false };
    await rollBack(deps, target, previous, opts.activateTimeoutMs);
    return { kind: "failed", error: err, rolledBack: true };
  }
}

export async function activate(
  deps: DeployDeps,
  target: Target,
  build: { buildId: number | null; storePath: string },
  timeoutMs: number,
): Promise<void> {
  const log = deps.log.child({ source: "activation" });
  deps.log.info(`activating ${target.profile.path}`, { storePath: build.storePath });
  await deps.runner.runActivation(activateCommand(target.profile.path), "activation", {
    env: activationEnv(target, build),
    timeoutMs,
    onLine: (line) => log.info(line),
  });
}

function activationEnv(target: Target, build: { buildId: number | null; storePath: string }): Record<string, string> {
  return {
    HAIL_PROFILE: target.profile.path,
    HAIL_STORE_PATH: build.storePath,
    HAIL_BUILD_ID: build.buildId === null ? "" : String(build.buildId),
  };
}

async function runHealthCheck(deps: DeployDeps, target: Target, resolution: Resolution, opts: DeployOptions) {
  const [file, ...args] = opts.healthCheck ?? [];
  if (file === undefined) return;
  const log = deps.log.child({ source: "health-check" });
  await deps.runner.runActivation({ file, args }, "health check", {
    env: activationEnv(target, resolution),
    timeoutMs: opts.activateTimeoutMs,
    onLine: (line) => log.info(line),
  });
}

/** Back to the exact generation from before the attempt (by number, not a blind --rollback). */
async function rollBack(deps: DeployDeps, target: Target, previous: number | null, timeoutMs: number) {
  const profile = target.profile.path;
  const now = await currentGeneration(profile);
  if (previous === null) {
    // There was no profile before: leave none, rather than a profile hail never activated.
    if (now !== null) {
      deps.log.warn(`rolling back: removing ${profile}, which did not exist before this attempt`);
      await rm(profile, { force: true });
      await rm(`${profile}-${now}-link`, { force: true });
    }
    return;
  }
  if (now !== previous) {
    deps.log.warn(`rolling back ${profile} to generation ${previous}`);
    await deps.runner.runNix(switchGenerationCommand(profile, previous));
  }
  const storePath = (await readProfileTarget(profile, deps.storeDir)) ?? profile;
  try {
    await activate(deps, target, { buildId: null, storePath }, timeoutMs);
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    deps.log.error(`re-activating generation ${previous} after rollback failed: ${err.message}`);
  }
}
