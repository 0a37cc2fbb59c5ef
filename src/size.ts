// root basics: Sizes (`1GiB`, `500MiB`, `1.5GB`): parsed and printed.
import { UsageError } from "./errors.js";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/** "1GiB", "500MiB", "2G" (binary, as df -h), "1.5GB" (decimal), "0"; bare numbers are bytes. */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = (match?.[2] ?? "").toLowerCase();
  const factor = match && Object.hasOwn(UNITS, unit) ? UNITS[unit] : undefined;
  if (!match || factor === undefined) throw new UsageError(`${flag}: cannot read size "${text}"`, "use e.g. 1GiB, 500MiB, 0");
  return Math.round(Number(match[1]) * factor);
}

export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
