/**
 * The daemon's clock: passes at the poll period with ±10 % jitter so a fleet does not hit
 * Hydra in step; a stop request lets the running pass finish; a poll-now request cuts the
 * wait short. Errors never shorten the period (SPEC §3).
 */
export interface LoopControl {
  /** ask the loop to end after the running pass */
  stop(): void;
  /** start the next pass now (SIGUSR1, POST /poll) */
  pollNow(): void;
}

export interface LoopOptions {
  periodMs: number;
  /** fraction of the period, 0.1 = ±10 % */
  jitter: number;
  random?: () => number;
}

export function jitteredDelay(periodMs: number, jitter: number, random: () => number): number {
  return Math.max(0, Math.round(periodMs * (1 + jitter * (2 * random() - 1))));
}

export function createLoop(pass: () => Promise<void>, opts: LoopOptions): LoopControl & { run(): Promise<void> } {
  const random = opts.random ?? Math.random;
  let stopping = false;
  let wake: (() => void) | null = null;
  let pollRequested = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  return {
    async run() {
      while (!stopping) {
        pollRequested = false;
        await pass();
        if (stopping) break;
        if (!pollRequested) await sleep(jitteredDelay(opts.periodMs, opts.jitter, random));
      }
    },
    stop() {
      stopping = true;
      wake?.();
    },
    pollNow() {
      pollRequested = true;
      wake?.();
    },
  };
}
