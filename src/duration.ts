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
    throw new UsageError(`${flag}: cannot read duration "${text}"; use e.g. 30s, 5m, 1h30m`);
  }
  return Math.round(
    parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2] as Unit], 0),
  );
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
