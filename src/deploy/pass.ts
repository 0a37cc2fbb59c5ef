// deploy: One pass: resolve the target, decide, lock, deploy, and record the result in the state
// file.
import { HailError, describeError, isTransient } from "../errors.js";
import type { Log } from "../log.js";
import type { ProfileBefore } from "../profile/links.js";
import { profileBefore, readProfileTarget } from "../profile/links.js";
import type { ProfileFs } from "../profile/fs.js";
import type { ProcessRunner } from "../nix/runner.js";
import { currentBootId, type ProcessTable } from "./orphan.js";
import type { State } from "../state/schema.js";
import type { StateStore } from "../state/state-store.js";
import { buildRef, clearError, deployedBuildIdAt, recordError, recordFailure, recordHeld, recordSuccess, recordTransient, startAttempt } from "../state/transitions.js";
import type { Decision } from "../resolve/decide.js";
import { decide } from "../resolve/decide.js";
import { processStartTime } from "../state/lock.js";
import type { DeployDeps, DeployOptions, DeployResult } from "./deploy.js";
import { checkDiskSpace, deploy, pruneGenerations } from "./deploy.js";
import { runHook } from "./hooks.js";
import { confirmerFor } from "./confirm-timeout.js";
import { noteRebootNeed } from "../nixos/reboot.js";
import type { HydraApi, ResolutionCache } from "../resolve/latest.js";
import { resolutionOf } from "../resolve/latest.js";
import type { ReleaseFiles } from "../release/fetch-release.js";
import { resolveTarget } from "../resolve/signed.js";
import { decideSigned } from "../resolve/signed-decide.js";
import { noteRelease } from "./release-note.js";
import type { ReleaseView } from "../release/confirm.js";
import type { Resolution } from "../resolve/resolution.js";
import type { RolloutPolicy } from "../resolve/rollout.js";
import type { Target } from "../resolve/target.js";
import { sourceKey } from "../resolve/target.js";

export interface PassDeps {
  hydra: HydraApi;
  runner: ProcessRunner;
  fs: ProfileFs;
  /** an activation orphaned by a killed hail is found and stopped through it */
  processes: ProcessTable;
  log: Log;
  store: StateStore;
  storeDir: string;
  now: () => Date;
  /** --confirm-timeout's wait between two tries (absent: a real timer; a fake clock's in unit tests) */
  sleep?: (ms: number) => Promise<void>;
  /** the client for --release-manifest's files (agent/release-client.ts); absent without one */
  releaseFiles?: ReleaseFiles | null;
}

/** What a target carries from one pass to the next in memory (the rest is in the state file). */
export interface TargetSession {
  cache: ResolutionCache | null;
  /** the older gate (or job) build id last warned about, so a daemon says it once per offered id */
  warnedOlder?: number;
  /** the unsigned gate build last said to wait for a signature, and the release last logged: each said once */
  warnedUnsigned?: number;
  loggedRelease?: string;
}

/** `release`: the signed release that picked the build (--release-manifest), for logs, status and metrics. */
export type PassOutcome = (
  | { kind: "deployed"; resolution: Resolution; hookFailures: number }
  | { kind: "failed"; resolution: Resolution; error: HailError; rolledBack: boolean; hookFailures: number }
  | { kind: "unchanged"; resolution: Resolution; decision: Exclude<Decision, { kind: "deploy" }>; currentPath: string | null }
) & { release?: ReleaseView };

/** A deployment's options and the decision's own; AgentConfig extends this, and a pass gets the agent's config as it is. */
export interface PassOptions extends DeployOptions {
  /** --rollout-window and --rollout-key (null: no staged rollout) */
  rollout: RolloutPolicy | null;
  /** follow Hydra back to an older build than the one last deployed */
  allowDowngrade: boolean;
}

/** Resolve → check → decide → deploy, once (docs/how-it-works.md, "How it works"). Hydra errors propagate as typed errors. */
export async function runPass(deps: PassDeps, target: Target, session: TargetSession, opts: PassOptions): Promise<PassOutcome> {
  let state = await deps.store.read();
  const resolveDeps = { hydra: deps.hydra, releaseFiles: deps.releaseFiles ?? null, now: deps.now };
  const resolved = await recordingErrors(deps, () => resolveTarget(resolveDeps, target, { output: target.output, storeDir: deps.storeDir }, session.cache));
  session.cache = resolved.cache;
  const resolution = await recordingErrors(deps, () => Promise.resolve(resolutionOf(resolved.cache)));
  const { release } = resolved;
  const log = deps.log.child({ gateBuildId: resolution.gateBuildId ?? undefined, buildId: resolution.buildId, storePath: resolution.storePath });
  if (release !== null) state = await noteRelease({ ...deps, log }, state, release, session);
  const current = await readProfileTarget(target.profile.path, deps.storeDir, deps.fs);
  const policy = { source: sourceKey(target), allowDowngrade: opts.allowDowngrade };
  const offered = decide(resolution, current, state, deps.now(), opts.rollout, policy);
  const decision = release === null ? offered : await recordingErrors(deps, () => Promise.resolve(decideSigned(offered, release)));
  const signed = release === null ? {} : { release };
  if (decision.kind !== "deploy") {
    reportUnchanged(log, decision, current, state, session);
    if (state.lastError !== null && decision.kind !== "skip") await deps.store.update(clearError);
    return { kind: "unchanged", resolution, decision, currentPath: current, ...signed };
  }
  log.info(`deploying build ${resolution.buildId} to ${target.profile.path}`, { from: current ?? undefined });
  const deployDeps = { runner: deps.runner, fs: deps.fs, log, storeDir: deps.storeDir };
  try {
    await checkDiskSpace(deployDeps, resolution.storePath, opts.minFreeBytes);
  } catch (err) {
    if (err instanceof HailError) await deps.store.update((s) => recordError(s, err.kind, err.message, deps.now().toISOString()));
    throw err;
  }
  const previous = await profileBefore(target.profile.path, deps.storeDir, deps.fs);
  const result = await deployRecorded({ ...deps, log }, target, resolution, previous, opts);
  if (result.kind === "failed" && isTransient(result.error)) throw result.error;
  if (result.kind === "held") {
    return { kind: "unchanged", resolution, decision: { kind: "held", reason: result.reason }, currentPath: current, ...signed };
  }
  const hookFailures = await runHook(
    deps.runner,
    log,
    opts.hooks,
    {
      profilePath: target.profile.path,
      result: result.kind === "deployed" ? "success" : "failed",
      storePath: resolution.storePath,
      buildId: resolution.buildId,
      error: result.kind === "failed" ? result.error.message : null,
    },
    opts.activateTimeoutMs,
  );
  if (result.kind === "deployed") {
    log.info(`deployed build ${resolution.buildId}`);
    await noteRebootNeed(deps, target, resolution.storePath, result.inhibitedSwitch === true);
    await pruneGenerations(deployDeps, target, opts.keepGenerations, previous.generation);
    return { kind: "deployed", resolution, hookFailures, ...signed };
  }
  return { kind: "failed", resolution, error: result.error, rolledBack: result.rolledBack, hookFailures, ...signed };
}

/** A typed error that ends the pass before anything is deployed is the pass's error in the state file too. */
async function recordingErrors<T>(deps: PassDeps, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof HailError) await deps.store.update((s) => recordError(s, err.kind, err.message, deps.now().toISOString()));
    throw err;
  }
}

/** The attempt is in the state file before the first command runs, and its end right after. */
async function deployRecorded(deps: PassDeps, target: Target, resolution: Resolution, previous: ProfileBefore, opts: DeployOptions): Promise<DeployResult> {
  const ref = buildRef(resolution, sourceKey(target));
  await deps.store.update((s) => startAttempt(s, ref, previous, deps.now().toISOString()));
  const heldNow = async () => {
    const decision = decide(resolution, previous.storePath, await deps.store.read(), deps.now(), null);
    return decision.kind === "held" ? decision.reason : null;
  };
  const result = await deploy({ ...deployDepsOf(deps), heldNow }, target, resolution, previous, opts);
  await recordResult(deps.store, ref, result, deps.now().toISOString());
  return result;
}

/** What deploying needs from a pass's deps, with build ids looked up in the state file. */
export function deployDepsOf(deps: Pick<PassDeps, "runner" | "fs" | "log" | "storeDir" | "store"> & Partial<Pick<PassDeps, "hydra" | "now" | "sleep">>): DeployDeps {
  return {
    runner: deps.runner,
    fs: deps.fs,
    log: deps.log,
    storeDir: deps.storeDir,
    buildIdOf: async (storePath) => deployedBuildIdAt(await deps.store.read(), storePath),
    trackActivation: async (pgid) => {
      // the leader's start time and the boot id: the next run kills this group only if both still match
      const activation = pgid === null ? null : { pgid, processStart: await processStartTime(pgid), bootId: await currentBootId(), startedAt: new Date().toISOString() };
      await deps.store.update((s) => ({ ...s, activation })).catch((err: unknown) => {
        deps.log.warn(`cannot record the activation's process group in the state file: ${describeError(err)}`);
      });
    },
    ...(deps.hydra && deps.now ? { confirmReachable: confirmerFor(deps.hydra, deps.log, deps.now, deps.sleep) } : {}),
  };
}

export async function recordResult(store: StateStore, ref: ReturnType<typeof buildRef>, result: DeployResult, at: string): Promise<void> {
  await store.update((s) => {
    switch (result.kind) {
      case "deployed":
        return recordSuccess(s, ref, at);
      case "held":
        return recordHeld(s, result.reason, at);
      case "failed":
        // a cache that cannot be reached, a full disk, says nothing about the build: retried next poll
        if (isTransient(result.error)) return recordTransient(s, result.error.kind, result.error.message, at);
        return recordFailure(s, ref, result.error.message, result.error.kind, at);
    }
  });
}

function reportUnchanged(log: Log, decision: Exclude<Decision, { kind: "deploy" }>, current: string | null, state: State, session: TargetSession): void {
  switch (decision.kind) {
    case "stay":
      if (session.warnedOlder === decision.offeredId) log.debug(`not deploying: ${decision.reason}`);
      else log.warn(`not deploying: ${decision.reason}`, { offeredBuildId: decision.offeredId, deployedBuildId: decision.deployedId });
      session.warnedOlder = decision.offeredId;
      return;
    case "up-to-date":
      log.debug("profile is up to date");
      return;
    case "held":
    case "wait":
      log.info(`not deploying: ${decision.reason}`);
      return;
    case "unsigned":
      if (session.warnedUnsigned === decision.offeredId) log.debug(`not deploying: ${decision.reason}`);
      else log.info(`not deploying: ${decision.reason}`, { unsignedBuildId: decision.offeredId, signedBuildId: decision.signedId });
      session.warnedUnsigned = decision.offeredId;
      return;
    case "skip":
      if (decision.cause === "changed-by-hand") {
        log.warn(`not deploying: ${decision.reason}`, { current, lastDeployed: state.lastDeployed?.storePath });
      } else {
        log.info(`not deploying: ${decision.reason}`);
      }
      return;
    default:
      return assertNever(decision);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
