// root basics: Fields of /proc/PID/stat, read for lock owners and orphaned activations.
import { readFile } from "node:fs/promises";

/**
 * The fields of /proc/PID/stat after the parenthesised command name, which may itself hold
 * spaces and ")": [0] is the state (R, S, Z…), [2] the process group, [19] the start time in
 * clock ticks since boot. Null when the process is gone, or off Linux.
 */
export async function procStatFields(pid: number): Promise<string[] | null> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  return stat === null ? null : stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}
