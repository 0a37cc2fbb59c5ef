// state: The lock beside the profile, so two state dirs cannot deploy one profile at once.
import { realpath } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { hasErrnoCode, withPath } from "../errno.js";
import type { LockResult } from "./lock.js";
import { acquireLock } from "./lock.js";
import { makeDirs } from "../make-dirs.js";
import { fitName, NAME_MAX } from "../profile/key.js";

/**
 * One hail per profile, whatever --state-dir each hail was given and however it spells the
 * profile's path. STATE_DIR/<profile-key>.lock (the contract, docs/reference.md, "Files") holds only
 * within one state dir and one spelling; the second lock, beside the profile in its own
 * directory, is the same file for every hail that reaches that directory, through a symlink
 * or a bind mount too. Both are try-locks: the second hail is told at once who holds which.
 */
export async function lockProfileFiles(stateLock: string, profilePath: string, command: string, makeDir = true): Promise<LockResult> {
  const first = await acquireLock(stateLock, command);
  if (first.kind === "held") return first;
  let second: LockResult;
  try {
    const beside = await besideProfileLock(profilePath, makeDir);
    // no directory, no profile: nothing there to activate or deactivate, nothing to lock
    if (beside === null) return first;
    second = await acquireLock(beside, command);
  } catch (err) {
    await first.release();
    throw err;
  }
  if (second.kind === "held") {
    await first.release();
    return second;
  }
  const both = second;
  return {
    kind: "acquired",
    release: async () => {
      try {
        await both.release();
      } finally {
        await first.release();
      }
    },
  };
}

/**
 * The lock file beside the profile: `<name>.hail-lock-link` in the profile's directory,
 * resolved (realpath) so that the name in messages is the canonical one. Made when missing
 * (0755), as the deployment would make it, unless `makeDir` is false (retiring a removed
 * target: then a missing directory is null). The name:
 * - not `<name>.lock`: that is nix-env's own lock of the profile, which it deletes after use;
 * - not `<name>-<N>-link` (nor anything Nix parses as one): Nix's generations;
 * - but ending in `-link`: NixOS's systemd-boot installer takes every other entry of
 *   /nix/var/nix/profiles/system-profiles/ for a profile and fails on one that is not (it runs
 *   while hail activates, holding this lock); nix-collect-garbage looks only at symlinks.
 * A name too long for the file system is shortened by a hash (profile-key.ts).
 */
export async function besideProfileLock(profilePath: string, makeDir = true): Promise<string | null> {
  const dir = dirname(profilePath);
  if (makeDir) await makeDirs(dir, 0o755);
  let canonical: string;
  try {
    canonical = await realpath(dir);
  } catch (err) {
    if (!makeDir && hasErrnoCode(err, "ENOENT")) return null;
    throw withPath(err, dir);
  }
  return join(canonical, profileLockName(basename(profilePath)));
}

const SUFFIX = ".hail-lock-link";

/** `<name>.hail-lock-link`; for a name too long for that, a readable start of it, "~" and a hash of all of it. */
export function profileLockName(name: string): string {
  return `${fitName(name, NAME_MAX - SUFFIX.length, "~")}${SUFFIX}`;
}
