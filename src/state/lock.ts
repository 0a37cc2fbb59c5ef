import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { hostname } from "node:os";
import * as z from "zod";
import { hasErrnoCode, withPath } from "../errno.js";

/** node:crypto, loaded when a lock is written, not when hail starts (`hail plan` writes none). */
const crypto = () => process.getBuiltinModule("node:crypto");

/**
 * One hail per profile. The lock file names its owner (pid, host, start time, and the
 * process's start time from /proc, to tell a live owner from a recycled pid).
 *
 * A lock file is never written in place: it is written whole under a temporary name and then
 * linked (to create it) or renamed (to take a stale one over) into place, so a reader never
 * sees half of one, and one left empty by a crash of an older hail is simply stale.
 *
 * Taking over is race-free: only the process that wins an exclusive claim file named after
 * the stale lock's exact content may replace it, and it replaces it only after reading that
 * the lock is still that content. Nobody else can change the file meanwhile (creating fails
 * while it exists, its owner is dead, other takers lost the claim). A claimer that died
 * leaves a claim that is itself stale: the next taker uses the next claim number.
 * proper-lockfile decides staleness by mtime and cannot name the holder; flock needs a
 * native addon that cannot live in the single-file bundle.
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

const MAX_CLAIMS = 16;

export async function acquireLock(file: string, command: string): Promise<LockResult> {
  await mkdir(dirname(file), { recursive: true });
  const mine: LockInfo = { pid: process.pid, hostname: hostname(), since: new Date().toISOString(), processStart: await processStartTime(process.pid), command };
  const text = `${JSON.stringify(mine)}\n`;
  const temp = `${file}.${process.pid}.${crypto().randomBytes(6).toString("hex")}.tmp`;
  const acquired: LockResult = { kind: "acquired", release: () => releaseLock(file, text) };
  try {
    await writeFile(temp, text, { flag: "wx", mode: 0o600 }).catch((err: unknown) => {
      throw withPath(err, temp);
    });
    for (let attempt = 0; attempt < 20; attempt++) {
      if (await linkExclusive(temp, file)) return acquired;
      const seen = await readText(file);
      if (seen === null) continue; // released meanwhile: try again
      const holder = parseHolder(seen);
      if (holder !== null && (await isAlive(holder))) return { kind: "held", holder };
      const took = await takeOver(file, seen, temp);
      if (took === "taken") return acquired;
      if (took !== "lost") return { kind: "held", holder: took };
    }
  } finally {
    await rm(temp, { force: true });
  }
  const seen = await readText(file);
  const holder = seen === null ? null : parseHolder(seen);
  if (holder !== null) return { kind: "held", holder };
  throw new Error(`cannot take the lock ${file}: it keeps changing; is another hail starting and stopping?`);
}

/** Replaces the stale lock whose content was `seen` with `temp`, or says who is ahead. */
async function takeOver(file: string, seen: string, temp: string): Promise<"taken" | "lost" | LockInfo> {
  const tag = crypto().createHash("sha256").update(seen).digest("hex").slice(0, 16);
  const claims: string[] = [];
  for (let k = 0; k < MAX_CLAIMS; k++) {
    const claim = `${file}.takeover-${tag}-${k}`;
    claims.push(claim);
    if (await linkExclusive(temp, claim)) {
      if ((await readText(file)) !== seen) {
        await rm(claim, { force: true });
        return "lost";
      }
      await rename(temp, file);
      for (const c of claims) await rm(c, { force: true });
      return "taken";
    }
    const claimText = await readText(claim);
    const claimer = claimText === null ? null : parseHolder(claimText);
    if (claimer !== null && (await isAlive(claimer))) return claimer;
  }
  return "lost";
}

async function linkExclusive(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    if (hasErrnoCode(err, "EEXIST")) return false;
    throw err;
  }
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if (hasErrnoCode(err, "ENOENT")) return null;
    throw err;
  }
}

/** The owner named in a lock file; null for an empty or garbled one, which is stale. */
function parseHolder(text: string): LockInfo | null {
  try {
    const parsed = LockInfoSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
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

async function releaseLock(file: string, mine: string): Promise<void> {
  if ((await readText(file)) === mine) await rm(file, { force: true });
}

/** Waits for a lock held only for moments (a read-modify-write of the state file). */
export async function withShortLock<T>(file: string, what: string, body: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lock = await acquireLock(file, what);
    if (lock.kind === "acquired") {
      try {
        return await body();
      } finally {
        await lock.release();
      }
    }
    if (Date.now() > deadline) throw new Error(`lock ${file} is held by pid ${lock.holder.pid} for more than ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
}

/** Field 22 of /proc/PID/stat (after the parenthesised command name); null off Linux. */
export async function processStartTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}
