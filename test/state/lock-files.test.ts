// Lock and claim files hail cannot have written are refused (73), never opened in a blocking
// way and never replaced; and an environment error ends an attempt at once, never in a loop.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { asHailError } from "../../src/errors.js";
import { acquireLock, withShortLock } from "../../src/state/lock.js";
import { thisPlace } from "../../src/state/lock-owner.js";
import { besideFile } from "../../src/state/lock-file.js";

const NOBODY = 65534;

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "hail-lock-files-"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A fresh directory per test, and the lock path in it. */
async function lockPath(name = "app.lock"): Promise<string> {
  n += 1;
  const sub = join(dir, `d${n}`);
  await mkdir(sub);
  return join(sub, name);
}

/**
 * Taking `file` rejects with exit 73, naming `planted` (the lock itself, or its claim) and why;
 * nothing in the directory changed.
 */
async function refused(file: string, why: RegExp, planted = file): Promise<void> {
  const sub = join(file, "..");
  const before = await readdir(sub);
  const kind = (await lstat(planted)).mode;
  await assert.rejects(acquireLock(file, "test"), (err: unknown) => {
    const e = asHailError(err);
    assert.equal(e.exitCode, 73, e.message);
    assert.ok(e.message.includes(`lock file ${planted} `), e.message);
    assert.match(e.message, why);
    return true;
  });
  assert.deepEqual(await readdir(sub), before, "no lock, claim or temporary file left, nothing replaced");
  assert.equal((await lstat(planted)).mode, kind, "the planted file is as it was");
}

const deadPid = () => Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));

// A timeout only as a safety net: before the fix, reading a FIFO lock blocked for ever.
describe("a lock file hail cannot have written is refused with 73, not taken over", { timeout: 60_000 }, () => {
  it("a FIFO: not opened (a blocking open would hang here), refused as not a regular file", async () => {
    const file = await lockPath();
    execFileSync("mkfifo", [file]);
    await refused(file, /is not a regular file \(it is a FIFO\)/);
  });

  it("a directory", async () => {
    const file = await lockPath();
    await mkdir(file);
    await refused(file, /is not a regular file \(it is a directory\)/);
  });

  it("a character device (/dev/null's kind)", async () => {
    const file = await lockPath();
    execFileSync("mknod", [file, "c", "1", "3"]);
    await refused(file, /is not a regular file \(it is a character device\)/);
  });

  it("a symbolic link, even to a valid stale lock", async () => {
    const file = await lockPath();
    const target = join(file, "..", "elsewhere");
    await writeFile(target, "", { mode: 0o600 });
    await symlink(target, file);
    await refused(file, /is a symbolic link/);
    assert.equal(await readFile(target, "utf8"), "", "nothing written through the link");
  });

  it("a file owned by another user (a lock planted by nobody)", async () => {
    const file = await lockPath();
    await writeFile(file, "", { mode: 0o600 });
    await chown(file, NOBODY, NOBODY);
    await refused(file, /is owned by uid 65534, not by this user \(uid 0\)/);
  });

  it("a file others may write", async () => {
    const file = await lockPath();
    await writeFile(file, "");
    await chmod(file, 0o666);
    await refused(file, /is writable by others \(mode 0666\)/);
  });

  it("a file its group may write", async () => {
    const file = await lockPath();
    await writeFile(file, "");
    await chmod(file, 0o620);
    await refused(file, /is writable by its group \(mode 0620\)/);
  });

  it("an absurdly large file (3 GiB, sparse): refused by its size, not read", async () => {
    const file = await lockPath();
    await writeFile(file, "", { mode: 0o600 });
    await truncate(file, 3 * 1024 ** 3);
    await refused(file, /is 3221225472 bytes, too large for a lock file/);
  });

  it("a takeover claim that is a FIFO", async () => {
    const file = await lockPath();
    const stale = `${JSON.stringify({ ...(await thisPlace()), pid: deadPid(), since: new Date().toISOString(), processStart: null, command: "crashed" })}\n`;
    await writeFile(file, stale, { mode: 0o600 });
    const tag = (await import("node:crypto")).createHash("sha256").update(stale).digest("hex").slice(0, 16);
    const claim = besideFile(file, `.takeover-${tag}-0`);
    execFileSync("mkfifo", [claim]);
    await refused(file, /is not a regular file \(it is a FIFO\)/, claim);
    assert.equal(await readFile(file, "utf8"), stale, "the stale lock is left alone");
  });
});

describe("an empty or garbled lock of this user's stays stale (SPEC: not an error)", () => {
  for (const [what, text, mode] of [
    ["empty, mode 0644 (created by hand)", "", 0o644],
    ["garbled, mode 0600", '{"pid": 12', 0o600],
    ["a JSON line that is not a lock", "[]\n", 0o400],
  ] as const) {
    it(what, async () => {
      const file = await lockPath();
      await writeFile(file, text);
      await chmod(file, mode);
      const lock = await acquireLock(file, "test");
      assert.equal(lock.kind, "acquired");
      if (lock.kind === "acquired") await lock.release();
    });
  }
});

// Before the fix, mkdir of /proc/hail-state spun for ever: the timeout is a safety net.
describe("an environment error ends the attempt at once (issue 22: never a loop)", { timeout: 60_000 }, () => {
  it("a lock in /proc, where mkdir answers ENOENT although /proc exists: ENOENT for the path, 73", async () => {
    await assert.rejects(acquireLock("/proc/hail-state/app.lock", "test"), (err: unknown) => {
      const e = asHailError(err);
      assert.equal(e.exitCode, 73, e.message);
      assert.match(e.message, /\/proc\/hail-state/);
      return true;
    });
  });

  it("withShortLock in /proc: the same error, not a wait", async () => {
    let ran = false;
    await assert.rejects(
      withShortLock("/proc/hail-state/x.json.lock", "update", async () => {
        ran = true;
      }),
      (err: unknown) => asHailError(err).exitCode === 73,
    );
    assert.equal(ran, false);
  });

  it("a lock directory that is a regular file: 73, naming it", async () => {
    const notDir = join(await lockPath("state"), "..", "state");
    await writeFile(notDir, "");
    await assert.rejects(acquireLock(join(notDir, "app.lock"), "test"), (err: unknown) => {
      const e = asHailError(err);
      assert.equal(e.exitCode, 73, e.message);
      assert.match(e.message, new RegExp(`${notDir}.*a regular file`));
      return true;
    });
  });

  it("a lock directory below a regular file: 73 (ENOTDIR), naming the path", async () => {
    const notDir = join(await lockPath("state"), "..", "state");
    await writeFile(notDir, "");
    await assert.rejects(acquireLock(join(notDir, "sub", "app.lock"), "test"), (err: unknown) => {
      const e = asHailError(err);
      assert.equal(e.exitCode, 73, e.message);
      assert.ok(e.message.includes(notDir), e.message);
      return true;
    });
  });

  it("a directory made for locks gets mode 0755 whatever the umask", async () => {
    const file = join(await lockPath(), "..", "new", "deeper", "app.lock");
    const old = process.umask(0);
    try {
      const lock = await acquireLock(file, "test");
      if (lock.kind === "acquired") await lock.release();
    } finally {
      process.umask(old);
    }
    assert.equal((await lstat(join(file, ".."))).mode & 0o7777, 0o755);
    assert.equal((await lstat(join(file, "..", ".."))).mode & 0o7777, 0o755);
  });
});

describe("lock names near the file system's limit", () => {
  it("a lock whose name has 250 bytes is taken over from a dead holder: its temporary and claim files are shortened", async () => {
    const file = await lockPath(`${"x".repeat(245)}.lock`);
    const stale = `${JSON.stringify({ ...(await thisPlace()), pid: deadPid(), since: new Date().toISOString(), processStart: null, command: "crashed" })}\n`;
    await writeFile(file, stale, { mode: 0o600 });
    const lock = await acquireLock(file, "long");
    assert.equal(lock.kind, "acquired");
    assert.deepEqual(await readdir(join(file, "..")), [`${"x".repeat(245)}.lock`], "no claim or temporary file left");
    if (lock.kind === "acquired") await lock.release();
  });
});
