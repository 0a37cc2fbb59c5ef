// state: The lock: one hail per profile; the lock file names its owner, and a dead owner's lock is
// taken over.
import { link, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as z from "zod";
import { hasErrnoCode, withPath } from "../errno.js";
import { ProfileLocked } from "../errors.js";
import { describeHolder } from "./lock-holder.js";
import { besideFile, readLockFile, UntrustedLockFile } from "./lock-file.js";
import { makeDirs } from "../make-dirs.js";
import { procStatFields } from "../proc-stat.js";
import { bootStartedAt, thisPlace, whereIs } from "./lock-owner.js";
import { formatDuration } from "../duration.js";

/** node:crypto, loaded when a lock is written, not when hail starts (`hail plan` writes none). */
const crypto = () => process.getBuiltinModule("node:crypto");

/**
 * One hail per profile. The lock file names its owner: pid, host, machine-id, boot id and pid
 * namespace (lock-owner.ts: where the owner runs), start time, and the process's start time
 * from /proc, to tell a live owner from a recycled pid.
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
 *
 * Only the races of this protocol (EEXIST, ENOENT) are retried, a bounded number of times;
 * any other error (EACCES, ENOSPC, ELOOP, …) ends the attempt with the error and its path,
 * and a lock file hail cannot have written is refused (lock-file.ts).
 */
const LockInfoSchema = z.object({
  pid: z.number().int().positive(),
  hostname: z.string(),
  /** absent from the locks of older hails */
  machineId: z.string().nullish(),
  bootId: z.string().nullish(),
  pidNamespace: z.string().nullish(),
  since: z.string(),
  /** /proc/PID/stat start time, to tell a live owner from a recycled pid */
  processStart: z.string().nullable(),
  command: z.string(),
});
export type LockInfo = z.infer<typeof LockInfoSchema>;

export type LockResult =
  | { kind: "acquired"; release(): Promise<void> }
  /** `where`: why the holder counts as alive, when it runs elsewhere (another machine, container) */
  | { kind: "held"; holder: LockInfo; file: string; where: string | null };

const MAX_CLAIMS = 16;
const MAX_ATTEMPTS = 20;

export async function acquireLock(file: string, command: string): Promise<LockResult> {
  await makeDirs(dirname(file), 0o755);
  const place = await thisPlace();
  const mine: LockInfo = { pid: process.pid, ...place, since: new Date().toISOString(), processStart: await processStartTime(process.pid), command };
  const text = `${JSON.stringify(mine)}\n`;
  const temp = besideFile(file, `.${process.pid}.${crypto().randomBytes(6).toString("hex")}.tmp`);
  const acquired: LockResult = { kind: "acquired", release: () => releaseLock(file, text) };
  try {
    await writeFile(temp, text, { flag: "wx", mode: 0o600 }).catch((err: unknown) => {
      throw withPath(err, temp);
    });
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await linkExclusive(temp, file)) return acquired;
      const seen = await readLockFile(file);
      if (seen === null) continue; // released meanwhile: try again
      const holder = parseHolder(seen);
      const judged = holder === null ? null : await judge(holder, file);
      if (judged !== null && judged.kind === "held") return judged;
      const took = await takeOver(file, seen, temp);
      if (took === "taken") return acquired;
      if (took !== "lost") return took;
    }
  } finally {
    await rm(temp, { force: true });
  }
  throw new ProfileLocked(`cannot take the lock ${file}: it changed ${MAX_ATTEMPTS} times while hail tried; is another hail starting and stopping? Try again`);
}

/** Held (with why, when the holder runs elsewhere), or stale. */
async function judge(holder: LockInfo, file: string): Promise<LockResult | { kind: "stale" }> {
  const where = whereIs(holder, await thisPlace(), bootStartedAt());
  if (where.kind === "earlier-boot") return { kind: "stale" };
  if (where.kind === "elsewhere") return { kind: "held", holder, file, where: where.why };
  return (await isAlive(holder)) ? { kind: "held", holder, file, where: null } : { kind: "stale" };
}

/** Replaces the stale lock whose content was `seen` with `temp`, or says who is ahead. */
async function takeOver(file: string, seen: string, temp: string): Promise<"taken" | "lost" | LockResult> {
  const tag = crypto().createHash("sha256").update(seen).digest("hex").slice(0, 16);
  const claims: string[] = [];
  for (let k = 0; k < MAX_CLAIMS; k++) {
    const claim = besideFile(file, `.takeover-${tag}-${k}`);
    claims.push(claim);
    if (await linkExclusive(temp, claim)) {
      if ((await readLockFile(file)) !== seen) {
        await rm(claim, { force: true });
        return "lost";
      }
      await rename(temp, file).catch((err: unknown) => {
        throw withPath(err, file);
      });
      for (const c of claims) await rm(c, { force: true });
      return "taken";
    }
    const claimText = await readLockFile(claim);
    const claimer = claimText === null ? null : parseHolder(claimText);
    if (claimer === null) continue;
    const judged = await judge(claimer, claim);
    if (judged.kind === "held") return judged;
  }
  return "lost";
}

async function linkExclusive(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    if (hasErrnoCode(err, "EEXIST")) return false;
    throw withPath(err, to);
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

/** A holder on this machine, this boot, in a pid namespace this process can look into. */
async function isAlive(holder: LockInfo): Promise<boolean> {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if (hasErrnoCode(err, "ESRCH")) return false;
  }
  const start = await processStartTime(holder.pid);
  return holder.processStart === null || start === null || start === holder.processStart;
}

/** Removes the lock while it is still this one; one that was replaced by a file hail cannot have written is left for the operator. */
async function releaseLock(file: string, mine: string): Promise<void> {
  try {
    if ((await readLockFile(file)) === mine) await rm(file, { force: true });
  } catch (err) {
    if (!(err instanceof UntrustedLockFile)) throw err;
  }
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
    if (Date.now() > deadline) {
      throw new ProfileLocked(`lock ${file} has been held for more than ${formatDuration(timeoutMs)} by ${describeHolder(lock)}`, "try again later");
    }
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
}

/** Field 22 of /proc/PID/stat, the start time in ticks since boot; null off Linux. */
export async function processStartTime(pid: number): Promise<string | null> {
  return (await procStatFields(pid))?.[19] ?? null;
}
