import { readlink, readdir } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { hasErrnoCode } from "../errno.js";

/**
 * Follows the profile's symlinks (P -> P-N-link -> /nix/store/…) without starting a
 * subprocess, so an idle pass stays free of `nix` calls. Null when there is no profile.
 */
export async function readProfileTarget(profilePath: string, storeDir: string): Promise<string | null> {
  let current = profilePath;
  for (let hop = 0; hop < 16; hop++) {
    let next: string;
    try {
      next = await readlink(current);
    } catch (err) {
      if (hasErrnoCode(err, "ENOENT")) return null;
      if (hasErrnoCode(err, "EINVAL")) return current; // not a symlink: this is the target
      throw err;
    }
    current = resolve(dirname(current), next);
    if (dirname(current) === storeDir) return current;
  }
  return current;
}

/** The generation number the profile link points at now (P -> P-N-link), or null. */
export async function currentGeneration(profilePath: string): Promise<number | null> {
  try {
    return parseGeneration(basename(profilePath), await readlink(profilePath));
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return null;
    throw err;
  }
}

/** All generation numbers of the profile, ascending, read from the P-N-link files. */
export async function listGenerations(profilePath: string): Promise<number[]> {
  const name = basename(profilePath);
  let entries: string[];
  try {
    entries = await readdir(dirname(profilePath));
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return [];
    throw err;
  }
  return entries
    .map((entry) => parseGeneration(name, entry))
    .filter((n): n is number => n !== null)
    .sort((a, b) => a - b);
}

export function parseGeneration(profileName: string, linkName: string): number | null {
  const base = basename(linkName);
  const prefix = `${profileName}-`;
  if (!base.startsWith(prefix) || !base.endsWith("-link")) return null;
  const middle = base.slice(prefix.length, -"-link".length);
  return /^\d+$/.test(middle) ? Number(middle) : null;
}

