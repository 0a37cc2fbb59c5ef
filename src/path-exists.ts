// root basics: Whether a path exists, without a subprocess or a throw.
import { access } from "node:fs/promises";

/** True when `path` exists (following links); no subprocess, no throw. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
