// resolve: Closure sizes from the binary cache's narinfo files, for `plan` to say what a deployment
// downloads.
import { describeError } from "../errors.js";
import type { Narinfo } from "../nix/narinfo.js";
import { hashPart, parseNarinfo } from "../nix/narinfo.js";
import { httpFetch } from "../hydra/http-fetch.js";
import { pathExists } from "../path-exists.js";
import { hideUserinfo } from "../secrets.js";

export type ClosureSizes =
  | { known: true; paths: number; closureSize: number; missingPaths: number; downloadSize: number; unpackedSize: number }
  | { known: false; reason: string };

export interface ClosureSizeOptions {
  caches: readonly string[];
  storeDir: string;
  timeoutMs: number;
  fetchText?: (url: string, timeoutMs: number) => Promise<string | null>;
  /** whether this machine has a store path already */
  exists?: (path: string) => Promise<boolean>;
}

const PARALLEL = 8;

/**
 * Walks the closure through the caches' narinfo files: NarSize over the whole closure, and
 * FileSize (download) and NarSize (unpacked) over the paths this machine does not have yet.
 * Any failure makes the sizes "unknown", never an error: `plan` must work without the cache.
 */
export async function closureSizes(storePath: string, opts: ClosureSizeOptions): Promise<ClosureSizes> {
  if (opts.caches.length === 0) return { known: false, reason: "no binary cache is configured" };
  const fetchText = opts.fetchText ?? fetchNarinfoText;
  const seen = new Map<string, Narinfo>();
  let queue = [storePath];
  try {
    while (queue.length > 0) {
      const batch = queue.splice(0, PARALLEL);
      const infos = await Promise.all(batch.map((p) => narinfoFromCaches(p, opts.caches, opts.timeoutMs, fetchText)));
      for (const [i, info] of infos.entries()) {
        if (info === null) return { known: false, reason: `${batch[i]} is in none of the caches (${hideUserinfo(opts.caches.join(", "))})` };
        seen.set(info.storePath, info);
      }
      const next = infos.flatMap((info) => (info ? info.references.map((r) => `${opts.storeDir}/${r}`) : []));
      queue = [...queue, ...new Set(next.filter((p) => !seen.has(p) && !batch.includes(p) && !queue.includes(p)))];
    }
  } catch (err) {
    return { known: false, reason: `cannot read the binary cache: ${hideUserinfo(describeError(err))}` };
  }
  const all = [...seen.values()];
  const exists = opts.exists ?? pathExists;
  const missing = (await Promise.all(all.map(async (n) => ((await exists(n.storePath)) ? null : n)))).filter((n) => n !== null);
  return {
    known: true,
    paths: all.length,
    closureSize: sum(all.map((n) => n.narSize)),
    missingPaths: missing.length,
    downloadSize: sum(missing.map((n) => n.fileSize ?? n.narSize)),
    unpackedSize: sum(missing.map((n) => n.narSize)),
  };
}

async function narinfoFromCaches(
  storePath: string,
  caches: readonly string[],
  timeoutMs: number,
  fetchText: (url: string, timeoutMs: number) => Promise<string | null>,
): Promise<Narinfo | null> {
  for (const cache of caches) {
    const text = await fetchText(`${cache}/${hashPart(storePath)}.narinfo`, timeoutMs);
    const info = text === null ? null : parseNarinfo(text);
    if (info) return info;
  }
  return null;
}

/** The narinfo's text, null when the cache does not have it (404); throws on other failures. */
async function fetchNarinfoText(url: string, timeoutMs: number): Promise<string | null> {
  if (url.startsWith("file://")) {
    const { readFile } = await import("node:fs/promises");
    try {
      return await readFile(new URL(url), "utf8");
    } catch {
      return null;
    }
  }
  const response = await httpFetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (response.status === 404 || response.status === 403) return null;
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  return response.text();
}


function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
