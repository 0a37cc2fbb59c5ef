// deploy: Start-up convergence: finishing or rolling back a deployment a killed hail left half
// done.
import { EXIT, HailError, asHailError } from "../errors.js";
import type { Log } from "../log.js";
import { readProfileTarget } from "../profile/links.js";
import type { StateStore } from "../state/state-store.js";
import { deployedBuildIdAt, interruptedAttempt, profileBeforeAttempt, recordInterrupted } from "../state/transitions.js";
import type { DeployDeps, DeployOptions } from "./deploy.js";
import { activate, finishDeployment, pruneGenerations } from "./deploy.js";
import { runHook } from "./hooks.js";
import { systemdRunning } from "../nixos/activation.js";
import type { InterruptedSwitch } from "../nixos/interrupted-switch.js";
import { interruptedSwitch } from "../nixos/interrupted-switch.js";
import { deployDepsOf, recordResult } from "./pass.js";
import type { Target } from "../resolve/target.js";

export type ConvergeOutcome =
  | { kind: "nothing-to-do" }
  | { kind: "completed" }
  | { kind: "failed" }
  /** `error`: the re-activation failed or was refused (logged already), null when it ran fine or there was no profile */
  | { kind: "re-activated"; error: HailError | null };

/**
 * A run that died mid-deployment left `lastAttempt.endedAt` empty (docs/safety.md, "Safety"). When the
 * profile already points at the attempted path the deployment is finished (activation, health
 * check, rollback on failure); otherwise the switch never happened, so the current generation
 * is activated again and the attempt is marked interrupted for the next pass to retry.
 */
export async function convergeInterrupted(
  deps: DeployDeps & { store: StateStore; now: () => Date },
  target: Target,
  opts: DeployOptions,
): Promise<ConvergeOutcome> {
  const attempt = interruptedAttempt(await deps.store.read());
  if (!attempt) return { kind: "nothing-to-do" };
  const current = await readProfileTarget(target.profile.path, deps.storeDir, deps.fs);
  const at = () => deps.now().toISOString();
  if (current === attempt.storePath) {
    deps.log.warn(`an earlier run stopped while deploying build ${attempt.buildId}; finishing it`, { storePath: attempt.storePath });
    const previous = profileBeforeAttempt(attempt, target.profile.path);
    const deployDeps = { ...deployDepsOf(deps), log: deps.log };
    const switched = await switchOutcome(deps, target, attempt.storePath, opts.activateTimeoutMs);
    const result = await finishDeployment(deployDeps, target, attempt, previous, opts, switched);
    await recordResult(deps.store, attempt, result, at());
    // the same aftermath as a deployment finished in one run
    const event = { profilePath: target.profile.path, storePath: attempt.storePath, buildId: attempt.buildId };
    if (result.kind === "deployed") {
      await runHook(deps.runner, deps.log, opts.hooks, { ...event, result: "success", error: null }, opts.activateTimeoutMs);
      await pruneGenerations(deployDeps, target, opts.keepGenerations, previous.generation);
    } else if (result.kind === "failed") {
      await runHook(deps.runner, deps.log, opts.hooks, { ...event, result: "failed", error: result.error.message }, opts.activateTimeoutMs);
    }
    return result.kind === "deployed" ? { kind: "completed" } : { kind: "failed" };
  }
  deps.log.warn(`an earlier run stopped before switching to build ${attempt.buildId}; re-activating the current generation`, {
    storePath: current,
  });
  const error = current === null ? null : await activateCurrent(deps, target, current, opts.activateTimeoutMs);
  await deps.store.update((s) => recordInterrupted(s, at()));
  return { kind: "re-activated", error };
}

/**
 * An app's bin/activate is run again: idempotent by contract. A NixOS switch is not (it
 * restarts services): what became of the one an earlier run started decides.
 */
async function switchOutcome(deps: DeployDeps, target: Target, storePath: string, timeoutMs: number): Promise<InterruptedSwitch> {
  if (!target.nixos) return { kind: "not-run" };
  const switchDeps = { runner: deps.runner, fs: deps.fs, log: deps.log, systemd: await systemdRunning(deps.fs) };
  const outcome = await interruptedSwitch(switchDeps, target.nixos, target.profile.path, storePath, timeoutMs);
  if (outcome.kind === "activated") deps.log.info(`the switch to ${storePath} ran to its end (${target.nixos.currentSystem} points at it): not switching again`);
  return outcome;
}

/**
 * Runs the current generation's activation; a failure is logged, not thrown (start-up), and
 * returned so that a refusal to run it (an untrusted profile) can be counted. Null: it ran fine.
 */
export async function activateCurrent(
  deps: DeployDeps & { store: StateStore },
  target: Target,
  current: string,
  timeoutMs: number,
): Promise<HailError | null> {
  const buildId = deployedBuildIdAt(await deps.store.read(), current);
  try {
    await activate({ ...deployDepsOf(deps), log: deps.log }, target, { buildId, storePath: current }, timeoutMs, "restore");
    return null;
  } catch (err) {
    return logActivationError(deps.log, err);
  }
}

function logActivationError(log: Log, caught: unknown): HailError {
  // a system error while checking the profile (EACCES, ELOOP) is the machine's (73/74); a bug is thrown
  const err = asHailError(caught);
  if (err.exitCode === EXIT.internal) throw caught;
  log.error(`activation of the current generation failed: ${err.message}`, { errorKind: err.kind });
  return err;
}
