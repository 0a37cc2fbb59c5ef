// nixos: --reboot-window: a daily local-time window, parsed, and whether now is inside it.
import { UsageError } from "../errors.js";

/** A daily local-time window in minutes after midnight; `end < start` wraps past midnight. */
export interface RebootWindow {
  start: number;
  end: number;
  text: string;
}

/** "HH:MM-HH:MM", e.g. "02:00-04:00" or "23:30-01:00" (wraps midnight). */
export function parseRebootWindow(text: string, flag = "--reboot-window"): RebootWindow {
  const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  const bad = () => new UsageError(`${flag} ${text}: give a local-time window HH:MM-HH:MM, e.g. 02:00-04:00 (it may wrap midnight)`);
  if (!m) throw bad();
  const [h1, m1, h2, m2] = m.slice(1).map(Number) as [number, number, number, number];
  if (h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59) throw bad();
  const start = h1 * 60 + m1;
  const end = h2 * 60 + m2;
  if (start === end) throw new UsageError(`${flag} ${text}: the window is empty (start and end are the same time)`);
  return { start, end, text: text.trim() };
}

/** Whether `at` (local time) lies in the window: start inclusive, end exclusive. */
export function insideWindow(window: RebootWindow, at: Date): boolean {
  const minute = at.getHours() * 60 + at.getMinutes();
  return window.start < window.end
    ? minute >= window.start && minute < window.end
    : minute >= window.start || minute < window.end;
}
