/**
 * Lists from Hydra in messages, capped: a body may carry a million evaluation ids or
 * constituents (up to the 32 MiB cap), and a message that names them all would be megabytes
 * in every log line, the state file and /healthz. Linear time, no spread of the list into
 * arguments (Math.min(...ids) overflows the stack long before a million).
 */

/** Lists this long or shorter are shown whole. */
export const SHOWN_WHOLE = 10;
/** A name from Hydra is cut to this many characters in a message. */
const NAME_CHARS = 100;

/**
 * 1000000 as "1,000,000", as Intl.NumberFormat("en-US") writes it, without Intl: the first
 * Intl object pages in ICU's data (about 6 MiB of the daemon's resident memory on Node 24),
 * and a daemon that deploys holds it for good.
 */
function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ",");
}

/** "19022,19017" for a few ids; "1…1000000 (1,000,000 ids)" for many; "none" for none. */
export function describeIds(ids: readonly number[], separator = ","): string {
  if (ids.length === 0) return "none";
  if (ids.length <= SHOWN_WHOLE) return ids.join(separator);
  let min = Infinity;
  let max = -Infinity;
  for (const id of ids) {
    if (id < min) min = id;
    if (id > max) max = id;
  }
  return `${min}…${max} (${count(ids.length)} ids)`;
}

/** A string from Hydra cut to `chars` characters (with "…"), for a message. */
export function cutShort(text: string, chars = NAME_CHARS): string {
  return text.length > chars ? `${text.slice(0, chars)}…` : text;
}

/** "worker, docs" for a few names; the first ten and "… and 99,990 more" for many; each name cut short. */
export function describeNames(names: readonly string[]): string {
  const shown = names.slice(0, SHOWN_WHOLE).map((name) => cutShort(name)).join(", ");
  return names.length <= SHOWN_WHOLE ? shown : `${shown}, … and ${count(names.length - SHOWN_WHOLE)} more`;
}

/**
 * The newest `keep` ids, ascending: what hail records of a build's evaluations. A build reused
 * across evaluations can be in thousands of them; the state file and `plan` keep the newest.
 */
export function newestIds(ids: readonly number[], keep: number): number[] {
  // a typed array sorts numerically in native code: a million ids in milliseconds
  const sorted = Float64Array.from(new Set(ids)).sort();
  return Array.from(sorted.subarray(Math.max(0, sorted.length - keep)));
}
