// profile: A profile's links and generations: what it points to now and what it pointed to before.
import { basename, dirname, resolve } from "node:path";
import { hasErrnoCode } from "../errno.js";
import type { LinkReader } from "./fs.js";
import { nodeProfileFs } from "./fs.js";

/**
 * Follows the profile's symlinks (P -> P-N-link -> /nix/store/…) without starting a
 * subprocess, so an idle pass stays free of `nix` calls. Null when there is no profile.
 * Read again at every call (someone may switch the profile between passes), synchronously:
 * a readlink takes microseconds, less than handing it to libuv's thread pool and back.
 */
export async function readProfileTarget(profilePath: string, storeDir: string, fs: LinkReader = nodeProfileFs): Promise<string | null> {
  let current = profilePath;
  for (let hop = 0; hop < 16; hop++) {
    let next: string;
    try {
      next = await fs.readlink(current);
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
export async function currentGeneration(profilePath: string, fs: LinkReader = nodeProfileFs): Promise<number | null> {
  try {
    return parseGeneration(basename(profilePath), await fs.readlink(profilePath));
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return null;
    throw err;
  }
}

/** All generation numbers of the profile, ascending, read from the P-N-link files. */
export async function listGenerations(profilePath: string, fs: LinkReader = nodeProfileFs): Promise<number[]> {
  const name = basename(profilePath);
  let entries: string[];
  try {
    entries = await fs.readdir(dirname(profilePath));
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


/** What a profile was before an attempt: what a rollback puts back exactly. */
export interface ProfileBefore {
  /** the generation the profile link pointed at (P -> P-N-link), null for a plain link or none */
  generation: number | null;
  /** the profile link's own target as readlink gives it; null when there was no profile */
  link: string | null;
  /** the store path behind it */
  storePath: string | null;
}

/** The profile link's own target (readlink), or null when there is no profile. */
export async function readProfileLink(profilePath: string, fs: LinkReader = nodeProfileFs): Promise<string | null> {
  try {
    return await fs.readlink(profilePath);
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return null;
    throw err;
  }
}

export async function profileBefore(profilePath: string, storeDir: string, fs: LinkReader = nodeProfileFs): Promise<ProfileBefore> {
  const link = await readProfileLink(profilePath, fs);
  return {
    generation: link === null ? null : parseGeneration(basename(profilePath), link),
    link,
    storePath: await readProfileTarget(profilePath, storeDir, fs),
  };
}
