// deploy: --confirm-timeout: after a switch, the new generation must reach Hydra again in time, or
// it is rolled back.
import { formatDuration } from "../duration.js";
import type { HydraApi } from "../resolve/latest.js";
import { SharedRound } from "../resolve/shared-hydra.js";
import type { Target } from "../resolve/target.js";
import { EXIT, HailError, HydraUnavailable, describeError } from "../errors.js";
import type { Log } from "../log.js";

/** The new generation did not let hail reach Hydra again in time: a failed deployment, exit 1. */
export class NotConfirmed extends HailError {
  readonly exitCode = EXIT.failed;
  readonly kind = "activation" as const;
}

export interface ConfirmDeps {
  /** a client that really asks Hydra (not the poll round's memo of answers) */
  hydra: HydraApi;
  log: Log;
  now: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

const RETRY_MS = 1_000;

/**
 * Any HTTP answer from Hydra proves the network still works, also an error status: only a
 * connection that could not be made or answered in time counts as unreachable.
 */
export function isHttpAnswer(outcome: { ok: true } | { ok: false; error: unknown }): boolean {
  if (outcome.ok) return true;
  const { error } = outcome;
  if (!(error instanceof HydraUnavailable)) return error instanceof HailError;
  return /: HTTP \d{3}/.test(error.message);
}

/**
 * --confirm-timeout: asks for the target's latest build again until Hydra answers, or throws
 * NotConfirmed once `timeoutMs` passed without an answer (the rollback follows).
 */
export async function confirmReachable(deps: ConfirmDeps, target: Target, timeoutMs: number): Promise<void> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = deps.now().getTime() + timeoutMs;
  const which = target.source.kind === "gate" ? "latest-finished" : "latest";
  let tries = 0;
  let last = "";
  for (;;) {
    tries += 1;
    let outcome: { ok: true } | { ok: false; error: unknown };
    try {
      await deps.hydra.latest(target.source.job, which);
      outcome = { ok: true };
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (isHttpAnswer(outcome)) {
      deps.log.info(`confirmed: Hydra answered after the activation (try ${tries})`);
      return;
    }
    if (!outcome.ok) last = describeError(outcome.error);
    const left = deadline - deps.now().getTime();
    if (left <= 0) break;
    deps.log.warn(`confirming: no answer from Hydra yet (${last}); trying again`);
    await sleep(Math.min(RETRY_MS, left));
  }
  throw new NotConfirmed(
    `no answer from Hydra within --confirm-timeout ${formatDuration(timeoutMs)} after the activation (${tries} tries; last: ${last}); ` +
      "the new generation seems to have cut this machine off, so hail rolls it back",
  );
}

/** The confirmation hook a deployment gets: the poll round's shared answers are bypassed. */
export function confirmerFor(hydra: HydraApi, log: Log, now: () => Date, sleep?: (ms: number) => Promise<void>) {
  const direct = hydra instanceof SharedRound ? hydra.direct() : hydra;
  return (target: Target, timeoutMs: number) => confirmReachable({ hydra: direct, log, now, ...(sleep ? { sleep } : {}) }, target, timeoutMs);
}
