// root basics: Making directories with an exact mode whatever the umask, and naming what is in the
// way.
import type { Stats } from "node:fs";
import { constants } from "node:fs";
import { chmod, mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { EXIT, EnvironmentError } from "./errors.js";
import { hasErrnoCode, withPath } from "./errno.js";

/**
 * mkdir -p with explicit modes, whatever the umask: `dir` gets `mode`, the parents it makes
 * `parentMode`. Each level is tried at most twice, so a directory that cannot be made fails
 * at once: Node's own recursive mkdir spins for ever on a path such as /proc/x, where mkdir
 * answers ENOENT although the parent exists (94 % CPU). A path that exists but is no
 * directory is refused (73). The state dir, the lock dirs and nested profile dirs are made
 * here.
 */
export async function makeDirs(dir: string, mode: number, parentMode = mode): Promise<void> {
  const missing = await makeDir(dir, mode);
  if (missing === null) return;
  const parent = dirname(dir);
  if (parent === dir) throw missing;
  await makeDirs(parent, parentMode);
  const again = await makeDir(dir, mode);
  if (again !== null) throw again;
}

/** null once `dir` is a directory (made or found); mkdir's ENOENT error while it cannot be made. */
async function makeDir(dir: string, mode: number): Promise<unknown> {
  try {
    await mkdir(dir, { mode });
    // mkdir's mode passes through the umask (0777 under umask 000); chmod does not
    await chmod(dir, mode);
    return null;
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return withPath(err, dir);
    if (!hasErrnoCode(err, "EEXIST")) throw withPath(err, dir);
  }
  let st: Stats;
  try {
    st = await stat(dir);
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) throw notADirectory(dir, "a symbolic link to nothing");
    throw withPath(err, dir);
  }
  if (!st.isDirectory()) throw notADirectory(dir, typeName(st.mode));
  return null;
}

function notADirectory(dir: string, what: string): EnvironmentError {
  return new EnvironmentError(`cannot use ${dir} as a directory: it is ${what}`, EXIT.cannotCreate, "give a directory");
}

/** What a file-type mode is, in words. */
export function typeName(mode: number): string {
  const type = mode & constants.S_IFMT;
  if (type === constants.S_IFIFO) return "a FIFO";
  if (type === constants.S_IFCHR) return "a character device";
  if (type === constants.S_IFBLK) return "a block device";
  if (type === constants.S_IFSOCK) return "a socket";
  if (type === constants.S_IFDIR) return "a directory";
  if (type === constants.S_IFLNK) return "a symbolic link";
  return "a regular file";
}
