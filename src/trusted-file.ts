// root basics: Reading a file or directory hail must trust (its state, config, netrc, Hydra
// password): owner, mode, type and size checked first.
import type { Stats } from "node:fs";
import { constants } from "node:fs";
import { lstat, open, stat } from "node:fs/promises";
import { hasErrnoCode } from "./errno.js";
import { makeDirs, typeName } from "./make-dirs.js";

/**
 * Files and directories hail runs as root on: its state, and the files the operator names by
 * flag (config, netrc, Hydra password). OpenSSH's rule for key files: trust only what root or
 * the running user owns and nobody else can write; a FIFO or a device is never opened in a way
 * that blocks, and a file is refused by its size before a byte of it is read.
 */

/** Why a file or directory is refused: `why` for the message, `fix` for the operator. */
export interface Refusal {
  /** "trust": its owner or mode; "shape": its type or size */
  kind: "trust" | "shape";
  why: string;
  fix: string;
}

export type TrustedRead = { kind: "read"; text: string; mode: number } | { kind: "missing" } | { kind: "refused"; refusal: Refusal };

export interface ReadRule {
  maxBytes: number;
  /**
   * Whether a final symlink is followed. State files are hail's own and never links. Flag files
   * often are: agenix and NixOS's environment.etc link them into place; what is checked is
   * the file finally opened.
   */
  followLink: boolean;
}

/** The uid hail runs as; root where the platform has no uids. */
export function runningUid(): number {
  return process.getuid?.() ?? 0;
}

/** Pure: why hail must not trust a file or directory with this owner and mode, or null. */
export function untrusted(info: { uid: number; mode: number }, expect: "file" | "directory", uid: number): Refusal | null {
  const type = info.mode & constants.S_IFMT;
  if (expect === "file" && type !== constants.S_IFREG) return { kind: "shape", why: `it is not a regular file (${typeName(info.mode)})`, fix: "replace it with a regular file" };
  if (expect === "directory" && type !== constants.S_IFDIR) return { kind: "shape", why: `it is not a directory (${typeName(info.mode)})`, fix: "replace it with a directory" };
  return untrustedOwnerOrMode(info, uid);
}

/** S_ISVTX, which node:fs's constants leave out. */
const STICKY = 0o1000;

/**
 * Pure: the owner and mode half of the rule. `stickyRoot`: a directory that is sticky and
 * owned by root (/tmp) may be writable by others, as OpenSSH's safe_path allows: anyone may
 * create entries there, but only their owner (or root) may rename or remove them. Profile
 * directories use it; the state dir does not (its files are root's alone).
 */
export function untrustedOwnerOrMode(info: { uid: number; mode: number }, uid: number, opts: { stickyRoot?: boolean } = {}): Refusal | null {
  if (info.uid !== 0 && info.uid !== uid) {
    const owners = uid === 0 ? "root" : `root or uid ${uid} (the user hail runs as)`;
    return { kind: "trust", why: `it is owned by uid ${info.uid}, not by ${owners}`, fix: `inspect it (another user may have put it there), then chown it to ${uid === 0 ? "root" : `uid ${uid}`} or remove it` };
  }
  const writable = info.mode & 0o022;
  if (writable === 0 || (opts.stickyRoot === true && (info.mode & STICKY) !== 0 && info.uid === 0)) return null;
  const who = writable === 0o022 ? "group and others" : writable === 0o020 ? "its group" : "others";
  return { kind: "trust", why: `it is writable by ${who} (mode ${octal(info.mode)})`, fix: "inspect it, then chmod go-w it" };
}

/** Pure: group or others may read it (a secret there is no longer one). */
export function readableByOthers(mode: number): boolean {
  return (mode & 0o044) !== 0;
}

export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}

function tooLarge(size: number, maxBytes: number): Refusal {
  return { kind: "shape", why: `it is larger than ${maxBytes / 1024 ** 2} MiB (${size} bytes)`, fix: "inspect it: no file hail reads is that large" };
}

/**
 * Reads a file that must be trusted, regular and at most `maxBytes`. A FIFO or a device is
 * refused by lstat/stat before it is opened; the open itself never blocks (O_NONBLOCK) and
 * never follows a final link unless the rule says so (O_NOFOLLOW), and the open descriptor is
 * checked again, so a file swapped in between is caught too.
 */
export async function readTrusted(path: string, rule: ReadRule): Promise<TrustedRead> {
  const uid = runningUid();
  let looked: Stats;
  try {
    looked = rule.followLink ? await stat(path) : await lstat(path);
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return { kind: "missing" };
    throw err;
  }
  const before = check(looked, rule, uid);
  if (before !== null) return { kind: "refused", refusal: before };
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (rule.followLink ? 0 : constants.O_NOFOLLOW);
  let handle;
  try {
    handle = await open(path, flags);
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return { kind: "missing" };
    // O_NOFOLLOW on a link swapped in since the lstat
    if (!rule.followLink && hasErrnoCode(err, "ELOOP")) return { kind: "refused", refusal: linkRefusal };
    throw err;
  }
  try {
    const opened = await handle.stat();
    const now = check(opened, rule, uid);
    if (now !== null) return { kind: "refused", refusal: now };
    // a file that grows after the fstat is still read no further than the limit
    const buffer = Buffer.alloc(Math.min(opened.size, rule.maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) return { kind: "refused", refusal: tooLarge(length, rule.maxBytes) };
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return { kind: "read", text: buffer.toString("utf8", 0, length), mode: opened.mode };
  } finally {
    await handle.close();
  }
}

const linkRefusal: Refusal = { kind: "shape", why: "it is a symbolic link, and hail follows none here", fix: "inspect it, then replace the link with a regular file" };

function check(info: Stats, rule: ReadRule, uid: number): Refusal | null {
  if (info.isSymbolicLink()) return linkRefusal;
  return untrusted(info, "file", uid) ?? (info.size > rule.maxBytes ? tooLarge(info.size, rule.maxBytes) : null);
}

/**
 * A directory hail keeps files in, made (with its missing parents) when there is none. Each
 * level is tried once, so a directory that cannot be made (under /proc, below a regular
 * file) fails at once; Node's recursive mkdir loops for ever on /proc. Made directories get
 * `mode` and parents 0755 whatever the umask. An existing one must be a directory, and with
 * `trust` also one that root or the running user owns and nobody else can write.
 */
export async function ensureDirectory(dir: string, mode: number, trust: boolean): Promise<Refusal | null> {
  let info = await statOrNull(dir);
  if (info === null) {
    if ((await lstat(dir).catch(() => null))?.isSymbolicLink()) {
      return { kind: "shape", why: "it is a symbolic link to nothing", fix: "inspect it, then remove the link or give another directory" };
    }
    await makeDirs(dir, mode, 0o755);
    info = await stat(dir);
  }
  if (!info.isDirectory()) return { kind: "shape", why: `it is not a directory (${typeName(info.mode)})`, fix: "replace it with a directory" };
  return trust ? untrusted(info, "directory", runningUid()) : null;
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return null;
    throw err;
  }
}
