// root basics: Durations (`30s`, `5m`, `1h30m`) and calendar times: parsed, bounded and printed.
import { UsageError } from "./errors.js";

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/**
 * Parses "30s", "5m", "1h30m", "250ms". A bare number takes `bareUnit`: minutes for
 * --poll-period (the original hail's unit), seconds elsewhere.
 */
export function parseDuration(text: string, flag: string, bareUnit: Unit = "s"): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * UNIT_MS[bareUnit]);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const consumed = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || consumed !== trimmed) {
    throw new UsageError(`${flag}: cannot read duration "${text}"`, "use e.g. 30s, 5m, 1h30m");
  }
  return Math.round(
    parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2] as Unit], 0),
  );
}

const DAY_MS = UNIT_MS.d;

/** The longest durations hail accepts: longer ones would overflow Node's timers or mean a typo. */
export const DURATION_LIMITS = {
  /** timers: --poll-period, --timeout, --activate-timeout, --confirm-timeout */
  timer: { maxMs: 7 * DAY_MS, maxText: "7 days", zero: false },
  /** --rollout-window (0 turns it off) */
  window: { maxMs: 365 * DAY_MS, maxText: "365 days", zero: true },
  /** hold --until */
  hold: { maxMs: 365 * DAY_MS, maxText: "365 days", zero: false },
} as const;

export type DurationLimit = (typeof DURATION_LIMITS)[keyof typeof DURATION_LIMITS];

/** parseDuration, refusing zero (unless the limit allows it) and anything beyond the limit. */
export function parseBoundedDuration(text: string, flag: string, limit: DurationLimit, bareUnit: Unit = "s"): number {
  const ms = parseDuration(text, flag, bareUnit);
  checkDurationLimit(ms, `${flag} ${text.trim()}`, limit);
  return ms;
}

export function checkDurationLimit(ms: number, what: string, limit: DurationLimit): void {
  if (!Number.isFinite(ms) || ms > limit.maxMs) {
    throw new UsageError(`${what} is too long: the limit is ${limit.maxText} (${formatDuration(limit.maxMs)})`);
  }
  if (ms <= 0 && !(limit.zero && ms === 0)) {
    throw new UsageError(`${what} must be longer than zero${limit.zero ? " (or 0 to turn it off)" : ""}`);
  }
}

/** Tomorrow at 08:00 UTC, as an example date in a message that cannot go stale the way a fixed date does. */
export function exampleTime(now: Date): string {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 8));
  return day.toISOString().replace(".000Z", "Z");
}

/**
 * A calendar date with an optional time ("2026-12-01", "2026-12-01T08:00:00Z") in ms since the
 * epoch. Date.parse quietly rolls "2027-02-30" over to 2 March; a date that does not exist is refused.
 */
export function parseCalendarTime(text: string, flag: string, now: Date = new Date()): number {
  const refuse = (why: string) => new UsageError(`${flag} ${text}: ${why}`, `give a date and time such as ${exampleTime(now)}`);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (m === null) throw refuse("cannot read this date");
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0)) as [
    number, number, number, number, number, number,
  ];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) throw refuse("no such day");
  if (hour > 23 || minute > 59 || second > 59) throw refuse("no such time of day");
  const at = Date.parse(text.trim());
  if (Number.isNaN(at)) throw refuse("cannot read this date");
  return at;
}

/**
 * A duration as an operator writes it, the form parseDuration reads: `1h`, `30s`, `1h30m`,
 * `2d`, `250ms`. Logs and messages print durations so, never as `3600s` or `5400000` ms.
 */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms);
  if (rest <= 0) return "0s";
  const parts: string[] = [];
  for (const unit of ["d", "h", "m", "s", "ms"] as const) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("");
}
