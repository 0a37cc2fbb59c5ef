// cli: What a pending deployment would change on this machine: the closure diff and download sizes
// for `plan`.
import type { ClosureSizes } from "../resolve/closure-size.js";
import { closureSizes } from "../resolve/closure-size.js";
import { HailError } from "../errors.js";
import type { ClosureChange } from "../nix/closure-diff.js";
import { diffClosuresCommand, parseDiffClosures } from "../nix/closure-diff.js";
import { realiseCommand } from "../nix/commands.js";
import type { ProcessRunner } from "../nix/runner.js";
import { configuredSubstituters } from "../nix/substituters.js";
import { formatSize } from "../size.js";
import { pathExists } from "../path-exists.js";

/** What a pending deployment would change on this machine (issue: show what will change). */
export interface ChangePreview {
  sizes: ClosureSizes;
  closureDiff: { changes: ClosureChange[] } | { unavailable: string };
}

export interface PreviewOptions {
  /** `plan --fetch`: realise the new closure first, so a diff is possible (writes the store) */
  fetch: boolean;
  runner: ProcessRunner;
  sizes: SizeLookup;
}

/** The download and closure sizes of a store path on this machine. */
export type SizeLookup = (storePath: string) => Promise<ClosureSizes>;

/**
 * Sizes read once per store path for a whole plan run: the targets of a config file offered
 * the same build share one walk of its narinfo files (and one read of Nix's configuration).
 */
export function sharedSizeLookup(opts: { storeDir: string; timeoutMs: number }): SizeLookup {
  const memo = new Map<string, Promise<ClosureSizes>>();
  let caches: Promise<string[]> | null = null;
  return (storePath) => {
    let sizes = memo.get(storePath);
    if (sizes === undefined) {
      caches ??= configuredSubstituters(process.env);
      const pending = caches;
      sizes = pending.then((list) => closureSizes(storePath, { caches: list, storeDir: opts.storeDir, timeoutMs: opts.timeoutMs }));
      memo.set(storePath, sizes);
    }
    return sizes;
  };
}

/**
 * Sizes come from the caches' narinfo files over HTTP (no Nix command). The closure diff needs
 * both closures in the local store, so it runs one read-only `nix store diff-closures` only
 * when the new path is already here, or after `--fetch` has realised it.
 */
export async function previewChanges(storePath: string, currentPath: string | null, opts: PreviewOptions): Promise<ChangePreview> {
  const sizes = await opts.sizes(storePath);
  return { sizes, closureDiff: await closureDiff(storePath, currentPath, opts) };
}

async function closureDiff(storePath: string, currentPath: string | null, opts: PreviewOptions): Promise<ChangePreview["closureDiff"]> {
  if (currentPath === null) return { unavailable: "no current generation to compare with" };
  try {
    if (opts.fetch) await opts.runner.runNix(realiseCommand(storePath));
    else if (!(await pathExists(storePath))) return { unavailable: "the new closure is not in the local store yet; `plan --fetch` realises it first" };
    return { changes: parseDiffClosures(await opts.runner.captureNix(diffClosuresCommand(currentPath, storePath))) };
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    return { unavailable: err.message };
  }
}

export function renderChanges(preview: ChangePreview): string[] {
  const { sizes, closureDiff } = preview;
  const rows = [
    sizes.known
      ? `${`download:`.padEnd(13)}${formatSize(sizes.downloadSize)} (${sizes.missingPaths} of ${sizes.paths} paths), ` +
        `${formatSize(sizes.unpackedSize)} unpacked; closure ${formatSize(sizes.closureSize)}`
      : `${`download:`.padEnd(13)}unknown (${sizes.reason})`,
  ];
  if ("unavailable" in closureDiff) rows.push(`${"changes:".padEnd(13)}unknown (${closureDiff.unavailable})`);
  else if (closureDiff.changes.length === 0) rows.push(`${"changes:".padEnd(13)}no package version or size changes`);
  else rows.push("changes:", ...closureDiff.changes.map((c) => `  ${c.name}: ${c.change}`));
  return rows;
}
