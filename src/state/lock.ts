import { mkdir, open, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { z } from "zod";
import { hasErrnoCode } from "../errno.js";

/**
 * One hail per profile (SPEC §4). The lock file holds the owner's pid and the start time of
 * that process, so a lock left by a dead process (or by a pid reused after a reboot) is taken
 * over. proper-lockfile decides staleness by mtime and cannot name the holder's pid; flock
 * needs a native addon that cannot live in the single-file bundle.
 */
const LockInfoSchema = z.object({
  pid: z.number().int().positive(),
  hostname: z.string(),
  since: z.string(),
  /** /proc/PID/stat start time, to tell a live owner from a recycled pid */
  processStart: z.string().nullable(),
  command: z.string(),
});
export type LockInfo = z.infer<typeof LockInfoSchema>;

export type LockResult = { kind: "acquired"; release(): Promise<void> } | { kind: "held"; holder: LockInfo };

export async function acquireLock(file: string, command: string): Promise<LockResult> {
  await mkdir(dirname(file), { recursive: true });
  const mine: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    since: new Date().toISOString(),
    processStart: await processStartTime(process.pid),
    command,
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(file, mine)) return { kind: "acquired", release: () => releaseLock(file, mine) };
    const holder = await readHolder(file);
    if (holder === "gone") continue;
    if (holder === "unreadable") {
      // A holder is between creating and writing the file: give it a moment.
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    if (await isAlive(holder)) return { kind: "held", holder };
    await rm(file, { force: true });
  }
  const holder = await readHolder(file);
  if (typeof holder === "object") return { kind: "held", holder };
  throw new Error(`cannot take the lock ${file}: it keeps changing; is another hail starting and stopping?`);
}

async function createExclusive(file: string, info: LockInfo): Promise<boolean> {
  try {
    const handle = await open(file, "wx", 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(info)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if (hasErrnoCode(err, "EEXIST")) return false;
    throw err;
  }
}

async function readHolder(file: string): Promise<LockInfo | "gone" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return "gone";
    throw err;
  }
  try {
    const parsed = LockInfoSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : "unreadable";
  } catch {
    return "unreadable";
  }
}

async function isAlive(holder: LockInfo): Promise<boolean> {
  // A lock from another host (a state dir on shared storage) cannot be checked: respect it.
  if (holder.hostname !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if (hasErrnoCode(err, "ESRCH")) return false;
  }
  const start = await processStartTime(holder.pid);
  return holder.processStart === null || start === null || start === holder.processStart;
}

async function releaseLock(file: string, mine: LockInfo): Promise<void> {
  const holder = await readHolder(file);
  if (typeof holder === "object" && holder.pid === mine.pid && holder.since === mine.since) {
    await rm(file, { force: true });
  }
}

/** Field 22 of /proc/PID/stat (after the parenthesised command name); null off Linux. */
async function processStartTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

