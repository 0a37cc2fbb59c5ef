// profile: The file system a profile lives on, as the deps tests fake: links, directories, free
// space.
import { constants, readlinkSync } from "node:fs";
import { access, lstat, readdir, readFile, realpath, rename, rm, stat, symlink } from "node:fs/promises";
import { makeDirs } from "../make-dirs.js";
import { freeBytes } from "../nix/disk.js";

/**
 * The file-system calls a deployment makes on a profile, the store's filesystem and (with
 * --nixos) the systems it switches between, passed in `deps` so that the pass, a rollback,
 * convergence and a NixOS switch or reboot run against a fake in unit tests. Errors are
 * node:fs's own (ENOENT, EINVAL for readlink of a non-link…): callers test their codes.
 */
export interface ProfileFs {
  readlink(path: string): Promise<string>;
  readdir(dir: string): Promise<string[]>;
  /** `uid` and `mode` decide whether a directory may be trusted (profile/trust.ts) */
  lstat(path: string): Promise<{ isSymbolicLink(): boolean; isDirectory(): boolean; uid: number; mode: number }>;
  /** mkdir -p; every directory it creates is mode 0755, whatever the umask */
  mkdirs(dir: string): Promise<void>;
  /** rm -f: no error when the path is not there */
  remove(path: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** bytes free to an unprivileged writer on the filesystem holding `dir` */
  freeBytes(dir: string): Promise<number>;
  /** the path with every link resolved; ENOENT when it leads nowhere */
  realpath(path: string): Promise<string>;
  readFile(path: string): Promise<Buffer>;
  /** something is there, links followed (stat succeeds) */
  exists(path: string): Promise<boolean>;
  /** this process may execute it, links followed (access X_OK) */
  executable(path: string): Promise<boolean>;
}

export const nodeProfileFs: ProfileFs = {
  // Synchronous: an idle pass reads the profile's links every time, and a readlink takes
  // microseconds, less than a round trip through libuv's thread pool.
  readlink: async (path) => readlinkSync(path),
  readdir: (dir) => readdir(dir),
  lstat: (path) => lstat(path),
  // 0755 whatever the umask: the rule for profile dirs (src/profile/trust.ts) refuses looser
  mkdirs: (dir) => makeDirs(dir, 0o755),
  remove: (path) => rm(path, { force: true }),
  symlink: (target, path) => symlink(target, path),
  rename: (from, to) => rename(from, to),
  freeBytes,
  realpath: (path) => realpath(path),
  readFile: (path) => readFile(path),
  exists: (path) => stat(path).then(() => true, () => false),
  executable: (path) => access(path, constants.X_OK).then(() => true, () => false),
};

/** What reading a profile's links needs. */
export type LinkReader = Pick<ProfileFs, "readlink" | "readdir">;

/** What looking at a NixOS system (its files, the booted and current system links, systemd's run dir) needs. */
export type SystemFs = Pick<ProfileFs, "realpath" | "readFile" | "exists" | "executable">;
