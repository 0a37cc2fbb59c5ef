import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { LockInfo } from "../../src/state/lock.js";
import { acquireLock, processStartTime, withShortLock } from "../../src/state/lock.js";

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "hail-lock-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh lock path per test. */
function lockPath(): string {
  n += 1;
  return join(dir, `p${n}`, "app.lock");
}

/** The pid of a process that has ended (its pid is free again). */
function deadPid(): number {
  const pid = Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));
  assert.ok(pid > 0);
  return pid;
}

function holderText(holder: Partial<LockInfo>): string {
  const full: LockInfo = { pid: process.pid, hostname: hostname(), since: "2026-01-01T00:00:00.000Z", processStart: null, command: "other", ...holder };
  return `${JSON.stringify(full)}\n`;
}

async function writeLock(file: string, text: string): Promise<void> {
  await acquireLock(file, "make-dir").then((l) => (l.kind === "acquired" ? l.release() : undefined));
  await writeFile(file, text);
}

function claimPath(file: string, seen: string, k: number): string {
  return `${file}.takeover-${createHash("sha256").update(seen).digest("hex").slice(0, 16)}-${k}`;
}

async function mustAcquire(file: string, command = "test") {
  const lock = await acquireLock(file, command);
  assert.equal(lock.kind, "acquired", `expected to take ${file}, got ${JSON.stringify(lock)}`);
  return lock as Extract<typeof lock, { kind: "acquired" }>;
}

async function lockOwner(file: string): Promise<LockInfo> {
  return JSON.parse(await readFile(file, "utf8")) as LockInfo;
}

describe("acquireLock", () => {
  it("takes a free lock, names this process in it, and release removes it", async () => {
    const file = lockPath();
    const lock = await mustAcquire(file, "deploy app");
    const owner = await lockOwner(file);
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.hostname, hostname());
    assert.equal(owner.command, "deploy app");
    assert.equal(owner.processStart, await processStartTime(process.pid));
    await lock.release();
    assert.deepEqual(await readdir(join(file, "..")), [], "no lock file and no temporary file left");
  });

  it("reports the holder of a lock whose owner is alive, and leaves the lock alone", async () => {
    const file = lockPath();
    const first = await mustAcquire(file, "first");
    const before = await readFile(file, "utf8");
    const second = await acquireLock(file, "second");
    assert.equal(second.kind, "held");
    assert.equal(second.kind === "held" && second.holder.pid, process.pid);
    assert.equal(second.kind === "held" && second.holder.command, "first");
    assert.equal(await readFile(file, "utf8"), before);
    await first.release();
  });

  it("takes over a lock whose owner's pid is dead, and removes its claim file", async () => {
    const file = lockPath();
    await writeLock(file, holderText({ pid: deadPid(), command: "crashed" }));
    const lock = await mustAcquire(file, "after crash");
    assert.equal((await lockOwner(file)).command, "after crash");
    const left = (await readdir(join(file, ".."))).filter((f) => f !== "app.lock");
    assert.deepEqual(left, [], "claim and temporary files are cleaned up");
    await lock.release();
  });

  it("takes over a lock whose pid lives but was recycled (another process start time)", async () => {
    const file = lockPath();
    await writeLock(file, holderText({ pid: process.pid, processStart: "1", command: "old owner" }));
    await mustAcquire(file, "new owner");
    assert.equal((await lockOwner(file)).command, "new owner");
  });

  it("takes over an empty lock file (left by a crash of an older hail)", async () => {
    const file = lockPath();
    await writeLock(file, "");
    await mustAcquire(file);
    assert.equal((await lockOwner(file)).pid, process.pid);
  });

  it("takes over a garbled lock file", async () => {
    const file = lockPath();
    await writeLock(file, '{"pid": "not a number"');
    await mustAcquire(file);
    assert.equal((await lockOwner(file)).pid, process.pid);
  });

  it("respects a lock from another host: its pid cannot be checked here", async () => {
    const file = lockPath();
    const text = holderText({ pid: deadPid(), hostname: "elsewhere.example", command: "remote" });
    await writeLock(file, text);
    const lock = await acquireLock(file, "here");
    assert.equal(lock.kind, "held");
    assert.deepEqual(lock.kind === "held" && lock.holder, JSON.parse(text));
    assert.equal(lock.kind === "held" && lock.file, file);
    assert.match((lock.kind === "held" && lock.where) || "", /another machine \(host elsewhere\.example\)/);
    assert.equal(await readFile(file, "utf8"), text);
  });

  it("does not take over while a live claimer holds the claim: it names the claimer", async () => {
    const file = lockPath();
    const stale = holderText({ pid: deadPid(), command: "crashed" });
    await writeLock(file, stale);
    const claimer = holderText({ hostname: "elsewhere.example", pid: 4242, command: "claimer" });
    await writeFile(claimPath(file, stale, 0), claimer);
    const lock = await acquireLock(file, "late");
    assert.equal(lock.kind, "held");
    assert.equal(lock.kind === "held" && lock.holder.command, "claimer");
    assert.equal(await readFile(file, "utf8"), stale, "the stale lock is left to the claimer");
  });

  it("passes over a claim left by a dead claimer, takes the next one and removes both", async () => {
    const file = lockPath();
    const stale = holderText({ pid: deadPid(), command: "crashed" });
    await writeLock(file, stale);
    await writeFile(claimPath(file, stale, 0), holderText({ pid: deadPid(), command: "dead claimer" }));
    await mustAcquire(file, "third");
    assert.equal((await lockOwner(file)).command, "third");
    assert.deepEqual(
      (await readdir(join(file, ".."))).filter((f) => f.includes("takeover")),
      [],
    );
  });

  it("release leaves a lock that is no longer its own", async () => {
    const file = lockPath();
    const lock = await mustAcquire(file);
    const other = holderText({ hostname: "elsewhere.example", command: "took it" });
    await writeFile(file, other);
    await lock.release();
    assert.equal(await readFile(file, "utf8"), other);
  });
});

describe("withShortLock", () => {
  it("runs the body under the lock and releases it after, also when the body throws", async () => {
    const file = lockPath();
    const seen = await withShortLock(file, "update", async () => (await lockOwner(file)).command);
    assert.equal(seen, "update");
    await assert.rejects(
      withShortLock(file, "update", async () => {
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.deepEqual(await readdir(join(file, "..")), []);
  });

  it("gives up on a lock held past its timeout, naming the holder's pid", async () => {
    const file = lockPath();
    await writeLock(file, holderText({ hostname: "elsewhere.example", pid: 777, command: "remote" }));
    let ran = false;
    await assert.rejects(
      withShortLock(file, "update", async () => {
        ran = true;
      }, 1),
      new RegExp(`lock ${file} has been held for more than 1ms by another hail \\(pid 777, remote`),
    );
    assert.equal(ran, false);
  });
});

describe("processStartTime", () => {
  it("reads this process's start time (clock ticks since boot) from /proc", async () => {
    assert.match((await processStartTime(process.pid)) ?? "", /^\d+$/);
  });

  it("is null for a pid that does not exist", async () => {
    assert.equal(await processStartTime(deadPid()), null);
  });
});
