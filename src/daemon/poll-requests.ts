// daemon: Poll-now requests (SIGUSR1, POST /poll): an accepted one is logged, the absorbed and
// refused ones summed up in one line a minute.
import { formatDuration } from "../duration.js";
import type { Log } from "../log.js";
import type { PollAnswer } from "../metrics/metrics-server.js";

const REPORT_EVERY_MS = 60_000;

/**
 * What became of poll-now requests (SIGUSR1, POST /poll): an accepted one is logged, the
 * absorbed and refused ones are counted and summed up in at most one log line a minute, so
 * a flood of requests cannot flood the log either.
 */
export class PollRequests {
  /** refused by the minimum interval, since the start (hail_poll_requests_rejected_total) */
  rejectedTotal = 0;
  #absorbed = 0;
  #rejected = 0;
  #lastReportAt = -Infinity;

  constructor(
    private readonly log: Log,
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  note(why: string, answer: PollAnswer): void {
    switch (answer.kind) {
      case "accepted":
        this.log.info(`${why}: polling now`);
        return;
      case "absorbed":
        this.#absorbed += 1;
        return;
      case "rejected":
        this.rejectedTotal += 1;
        this.#rejected += 1;
        this.#report(why);
        return;
    }
  }

  #report(why: string): void {
    if (this.now() - this.#lastReportAt < REPORT_EVERY_MS) return;
    this.#lastReportAt = this.now();
    this.log.warn(
      `${why}: refused ${this.#rejected} poll request(s) and absorbed ${this.#absorbed} since the last such message: ` +
        `hail starts at most one extra pass per --poll-min-interval ${formatDuration(this.minIntervalMs)}`,
      { pollRequestsRejected: this.#rejected, pollRequestsAbsorbed: this.#absorbed },
    );
    this.#absorbed = 0;
    this.#rejected = 0;
  }
}
