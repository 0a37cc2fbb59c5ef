/**
 * The daemon's clock: passes at the poll period with ±10 % jitter so a fleet does not hit
 * Hydra in step; a stop request lets the running pass finish; a poll-now request cuts the
 * wait short. Errors never shorten the period (docs/usage.md, "Daemon").
 *
 * Poll-now requests (SIGUSR1, POST /poll) coalesce: one while an extra pass is pending is
 * absorbed, and at most one extra pass starts per `minPollIntervalMs`; the excess is rejected,
 * so a flood of requests never turns into a flood of requests to Hydra. A running pass does not
 * absorb a request: it may have asked Hydra before the request came, so the request is accepted
 * (one more pass right after it) or rejected like any other.
 */
import type { PollAnswer } from "../metrics/metrics-server.js";

export interface LoopControl {
  /** ask the loop to end after the running pass */
  stop(): void;
  /** start the next pass now (SIGUSR1, POST /poll), unless coalesced or refused */
  pollNow(): PollAnswer;
}

/** Arms a timer; the returned function cancels it. Tests pass a fake. */
export type Schedule = (ms: number, fire: () => void) => () => void;

export interface LoopOptions {
  periodMs: number;
  /** fraction of the period, 0.1 = ±10 % */
  jitter: number;
  random?: () => number;
  /** wait before the first pass (firstPollDelay); default 0 */
  firstDelayMs?: number;
  /** at most one extra pass per this interval; default 0 (no limit) */
  minPollIntervalMs?: number;
  now?: () => number;
  schedule?: Schedule;
}

export function jitteredDelay(periodMs: number, jitter: number, random: () => number): number {
  return Math.max(0, Math.round(periodMs * (1 + jitter * (2 * random() - 1))));
}

/**
 * A fleet restarted at once (a data-centre reboot, a config push) must not hit Hydra in
 * step: a daemon whose profiles already exist spreads its first poll uniformly over the
 * first period. A profile that does not exist yet (a new machine) has nothing running and
 * polls at once.
 */
export function firstPollDelay(periodMs: number, profilesExist: boolean, random: () => number): number {
  return profilesExist ? Math.floor(random() * periodMs) : 0;
}

const realSchedule: Schedule = (ms, fire) => {
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
};

export function createLoop(pass: () => Promise<void>, opts: LoopOptions): LoopControl & { run(): Promise<void> } {
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const schedule = opts.schedule ?? realSchedule;
  const minInterval = opts.minPollIntervalMs ?? 0;
  let stopping = false;
  let wake: (() => void) | null = null;
  /** an extra pass was asked for and has not started yet */
  let pollPending = false;
  let lastExtraAt = -Infinity;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const cancel = schedule(ms, done);
      function done() {
        cancel();
        wake = null;
        resolve();
      }
      wake = done;
    });

  return {
    async run() {
      if ((opts.firstDelayMs ?? 0) > 0 && !pollPending) await sleep(opts.firstDelayMs ?? 0);
      while (!stopping) {
        pollPending = false;
        await pass();
        if (stopping) break;
        if (!pollPending) await sleep(jitteredDelay(opts.periodMs, opts.jitter, random));
      }
    },
    stop() {
      stopping = true;
      wake?.();
    },
    pollNow() {
      if (pollPending) return { kind: "absorbed" };
      const since = now() - lastExtraAt;
      if (since < minInterval) return { kind: "rejected", retryAfterMs: minInterval - since };
      lastExtraAt = now();
      pollPending = true;
      wake?.();
      return { kind: "accepted" };
    },
  };
}
