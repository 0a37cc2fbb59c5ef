// state: Reading a lock or claim file safely: bounded, and refused (exit 73) when hail did not
// write it.
import type { Stats } from "node:fs";
import { constants } from "node:fs";
import { lstat, open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { EXIT, EnvironmentError } from "../errors.js";
import { hasErrnoCode, withPath } from "../errno.js";
import { typeName } from "../make-dirs.js";
import { fitName, NAME_MAX } from "../profile/key.js";

/** A lock file is one line of JSON; anything much bigger was not written by hail. */
export const MAX_LOCK_BYTES = 64 * 1024;

/**
 * A lock or claim file hail did not write: a symbolic link, a FIFO, a device, a directory,
 * someone else's file, a file others may write, or one too large to be a lock. It is never
 * taken for a stale lock and replaced: in a directory only its owner may write to, it is a
 * sign of tampering (or of a mistake) that an operator should look at. Exit 73.
 */
export class UntrustedLockFile extends EnvironmentError {
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(`lock file ${file} ${why}; hail neither reads nor replaces a lock file it cannot have written: inspect it, then remove it`, EXIT.cannotCreate);
  }
}

/** Why a lock file with these attributes cannot be hail's, or null when it can. */
export function untrustedBecause(st: Stats, uid: number): string | null {
  if (st.isSymbolicLink()) return "is a symbolic link";
  if (!st.isFile()) return `is not a regular file (it is ${typeName(st.mode)})`;
  if (st.uid !== uid) return `is owned by uid ${st.uid}, not by this user (uid ${uid})`;
  if ((st.mode & 0o022) !== 0) return `is writable by ${(st.mode & 0o002) !== 0 ? "others" : "its group"} (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`;
  if (st.size > MAX_LOCK_BYTES) return `is ${st.size} bytes, too large for a lock file (at most ${MAX_LOCK_BYTES})`;
  return null;
}

function refuseUntrusted(file: string, st: Stats): void {
  const why = untrustedBecause(st, process.geteuid?.() ?? st.uid);
  if (why !== null) throw new UntrustedLockFile(file, why);
}

/**
 * The text of a lock (or claim) file, or null when there is none. Looked at before it is
 * opened, so a FIFO or a device is never opened at all; opened without following a link and
 * without blocking, and checked again once open, in case it was swapped meanwhile.
 */
export async function readLockFile(file: string): Promise<string | null> {
  try {
    refuseUntrusted(file, await lstat(file));
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return null;
    throw withPath(err, file);
  }
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return null;
    if (hasErrnoCode(err, "ELOOP")) throw new UntrustedLockFile(file, "is a symbolic link");
    throw withPath(err, file);
  }
  try {
    refuseUntrusted(file, await handle.stat());
    const buf = Buffer.alloc(MAX_LOCK_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      length += bytesRead;
      if (bytesRead === 0 || length === buf.length) break;
    }
    if (length > MAX_LOCK_BYTES) throw new UntrustedLockFile(file, `grew past ${MAX_LOCK_BYTES} bytes while being read`);
    return buf.toString("utf8", 0, length);
  } catch (err) {
    throw withPath(err, file);
  } finally {
    await handle.close();
  }
}

/**
 * `file` + `suffix` (a temporary or claim file) beside `file`. Where that name would be too
 * long for the file system, the name of `file` is shortened by a hash: a lock whose own name
 * fits always gets its temporary and claim files. Beside a lock whose name ends in `-link`
 * (the one beside a profile), they end in `-link` too (profile-lock.ts says why).
 */
export function besideFile(file: string, suffix: string): string {
  const tail = file.endsWith("-link") ? `${suffix}-link` : suffix;
  return join(dirname(file), `${fitName(basename(file), NAME_MAX - Buffer.byteLength(tail), "~")}${tail}`);
}
