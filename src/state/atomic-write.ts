// state: Writing a file atomically: a temporary file, fsync, rename, and fsync of the directory.
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { withPath } from "../errno.js";

/**
 * Temp file, fsync, rename, fsync of the directory: a reader (or a crash) sees the old file or
 * the new one, never half of one. write-file-atomic does all but the directory fsync, which is
 * what makes the rename itself survive a power cut.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const file = await open(temp, "wx", mode);
    try {
      // open's mode passes through the umask (077 would hide the metrics file from the
      // textfile collector); fchmod does not
      await file.chmod(mode);
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw withPath(err, temp);
  }
  const dirHandle = await open(dir, "r");
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
