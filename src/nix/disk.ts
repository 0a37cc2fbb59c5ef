// nix: Disk space: what a realisation would download and unpack, and refusing to fill the store's
// filesystem.
import { statfs } from "node:fs/promises";
import { EXIT, HailError } from "../errors.js";
import { formatSize } from "../size.js";
import type { Command } from "./commands.js";

/** Refusing to fill the disk is not a failed build: no failure mark, retried at the next poll. */
export class InsufficientSpace extends HailError {
  readonly exitCode = EXIT.failed;
  readonly kind = "nix" as const;
}

export function dryRunCommand(storePath: string): Command {
  return { file: "nix-store", args: ["--realise", "--dry-run", storePath] };
}

/**
 * Reads "these 3 paths will be fetched (1.25 MiB download, 4.50 MiB unpacked):" from
 * `nix-store --realise --dry-run`; nothing to fetch prints no such line. Bytes, rounded up.
 */
export function parseDryRun(output: string): { download: number; unpacked: number } {
  const match = /will be fetched \(([\d.]+) MiB download, ([\d.]+) MiB unpacked\)/.exec(output);
  if (!match) return { download: 0, unpacked: 0 };
  const mib = (text: string | undefined) => Math.ceil(Number(text) * 1024 * 1024);
  return { download: mib(match[1]), unpacked: mib(match[2]) };
}

export async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

/** Throws InsufficientSpace when realising would leave less than `minFree` on the store's filesystem. */
export function checkSpace(free: number, needed: number, minFree: number, storeDir: string): void {
  if (free - needed >= minFree) return;
  throw new InsufficientSpace(
    `not enough disk space to realise the new closure: ${formatSize(free)} free on the filesystem of ${storeDir}, ` +
      `the closure needs ${formatSize(needed)} unpacked, and --min-free keeps ${formatSize(minFree)}; ` +
      `free space (e.g. nix-collect-garbage --delete-older-than 30d) or lower --min-free`,
  );
}
