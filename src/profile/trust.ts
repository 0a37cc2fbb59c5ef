// profile: Trusting a profile before running anything from it: owner and mode of its directories, a
// plain store path.
import { dirname, join, resolve } from "node:path";
import { EXIT, EnvironmentError } from "../errors.js";
import { hasErrnoCode } from "../errno.js";
import type { ProfileFs } from "./fs.js";
import { runningUid, untrustedOwnerOrMode } from "../trusted-file.js";
import { isPlainStorePath } from "../nix/store-path-shape.js";

/**
 * What hail runs as root is only ever a file inside a store path: a profile's `bin/activate`
 * (or `bin/deactivate`, or a system's `bin/switch-to-configuration`) runs only when the
 * profile's links lead to a plain store path, and when every directory holding one of those
 * links, and every directory above them, can be changed by root or by the user hail runs as
 * only. A refusal is an environment error (73, `kind="environment"`): nothing runs.
 */

type TrustFs = Pick<ProfileFs, "lstat" | "readlink">;

/** Symlinks followed before giving up, as the kernel's ELOOP limit. */
const MAX_LINKS = 40;

/** Why a directory cannot be trusted, or null when only root or `me` can change what is in it. */
export function untrustedBecause(info: { uid: number; mode: number }, me: number): string | null {
  return untrustedOwnerOrMode(info, me, { stickyRoot: true })?.why ?? null;
}

function refusal(profile: string, what: string): EnvironmentError {
  return new EnvironmentError(
    `refusing to run anything from profile ${profile}: ${what}. Another user could point the profile at a program of theirs, ` +
      `and hail would run it as root. Fix: chown root and chmod go-w that directory (a shared one must be sticky and owned ` +
      `by root, like /tmp), or keep the profile under a directory only root can write, like /nix/var/nix/profiles`,
    EXIT.cannotCreate,
  );
}

/**
 * OpenSSH's rule for the paths of keys (auth.c, safe_path), with /tmp's exception: `dir` and
 * every directory above it, up to /, is owned by root or the running user and writable by no
 * one else, unless it is sticky and owned by root. Symlinks on the way are followed, each one
 * lying in a directory checked before it. A part that does not exist yet passes: hail creates
 * it (mode 0755), and the deployment checks again once it exists.
 */
export async function checkTrustedDir(dir: string, profile: string, fs: TrustFs): Promise<void> {
  const me = runningUid();
  const pending = dir.split("/").filter((part) => part !== "" && part !== ".");
  let at = "/";
  let links = 0;
  let info = await fs.lstat(at);
  for (;;) {
    if (!info.isDirectory()) throw new EnvironmentError(`profile ${profile}: ${at} is not a directory`, EXIT.cannotCreate, "fix the profile's path");
    const why = untrustedBecause(info, me);
    if (why !== null) throw refusal(profile, `directory ${at}: ${why}`);
    const part = pending.shift();
    if (part === undefined) return;
    if (part === "..") {
      // `at` has no symlink in it, so its parent is the one the kernel goes to
      at = dirname(at);
      info = await fs.lstat(at);
      continue;
    }
    const next = join(at, part);
    try {
      info = await fs.lstat(next);
    } catch (err) {
      if (hasErrnoCode(err, "ENOENT")) return;
      throw err;
    }
    if (info.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new EnvironmentError(`profile ${profile}: too many levels of symbolic links in ${dir} (ELOOP)`, EXIT.cannotCreate);
      const target = await fs.readlink(next);
      pending.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
      if (target.startsWith("/")) at = "/";
      info = await fs.lstat(at);
      continue;
    }
    at = next;
  }
}

/** The parent-directory rule alone: before hail creates or switches anything in the profile. */
export async function checkProfileDirs(profilePath: string, fs: TrustFs): Promise<void> {
  await checkTrustedDir(dirname(profilePath), profilePath, fs);
}

/**
 * The store path `profilePath` leads to, checked for running `PROFILE/bin/…` from it: every
 * link on the way (P -> P-N-link -> /nix/store/…, and a store path that is itself a link)
 * lies in a trusted directory, and the end is a plain store path. Throws a refusal otherwise.
 *
 * Between this check and the exec the kernel resolves `PROFILE/bin/activate` again. That is
 * safe only because of the directory rule: only root or hail's user can change a link in a
 * trusted directory, and store paths never change, so the kernel finds the file checked here.
 */
export async function runnableStorePath(profilePath: string, storeDir: string, fs: TrustFs): Promise<string> {
  const trusted = new Set<string>();
  let current = profilePath;
  for (let hop = 0; hop <= MAX_LINKS; hop++) {
    const where = dirname(current);
    if (!trusted.has(where)) {
      await checkTrustedDir(where, profilePath, fs);
      trusted.add(where);
    }
    let next: string;
    try {
      next = await fs.readlink(current);
    } catch (err) {
      // EINVAL: not a link, the end of the chain; ENOENT: a missing store path fails at the exec
      if (hasErrnoCode(err, "EINVAL") || hasErrnoCode(err, "ENOENT")) break;
      throw err;
    }
    current = resolve(where, next);
  }
  if (!isPlainStorePath(current, storeDir)) {
    const points = current === profilePath ? "does not exist or is not a symlink" : `points to ${current}`;
    throw new EnvironmentError(
      `refusing to run anything from profile ${profilePath}: it ${points}, which is not a store path under ${storeDir}; ` +
        `hail only runs bin/activate, bin/deactivate, bin/switch-to-configuration or a Home Manager generation's activate from a store path. Find out who changed ` +
        `the link, then point it back at a generation (nix-env --profile ${profilePath} --list-generations, --switch-generation N) ` +
        `or remove it`,
      EXIT.cannotCreate,
    );
  }
  return current;
}
