// One hail per profile across state dirs and spellings of the profile's path: the lock beside
// the profile, next to STATE_DIR/<key>.lock.
import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseGeneration } from "../../src/profile/links.js";
import type { LockResult } from "../../src/state/lock.js";
import { besideFile } from "../../src/state/lock-file.js";
import { besideProfileLock, lockProfileFiles, profileLockName } from "../../src/state/profile-lock.js";

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "hail-profile-lock-"));
});
after(() => rm(root, { recursive: true, force: true }));

/** A profiles dir, a symlink to it, and two state dirs, fresh per test. */
async function layout() {
  n += 1;
  const base = join(root, `t${n}`);
  const profiles = join(base, "profiles");
  await mkdir(profiles, { recursive: true });
  const linked = join(base, "linked-profiles");
  await symlink(profiles, linked);
  return { profiles, linked, stateA: join(base, "state-a"), stateB: join(base, "state-b") };
}

function acquired(lock: LockResult): Extract<LockResult, { kind: "acquired" }> {
  assert.equal(lock.kind, "acquired", JSON.stringify(lock));
  return lock as Extract<LockResult, { kind: "acquired" }>;
}

describe("lockProfileFiles", () => {
  it("takes STATE_DIR/<key>.lock and <profile>.hail-lock-link beside the profile, and release removes both", async () => {
    const d = await layout();
    const lock = acquired(await lockProfileFiles(join(d.stateA, "k.lock"), join(d.profiles, "app"), "oneshot"));
    assert.deepEqual(await readdir(d.stateA), ["k.lock"]);
    assert.deepEqual(await readdir(d.profiles), ["app.hail-lock-link"]);
    assert.equal((JSON.parse(await readFile(join(d.profiles, "app.hail-lock-link"), "utf8")) as { pid: number }).pid, process.pid);
    await lock.release();
    assert.deepEqual(await readdir(d.stateA), []);
    assert.deepEqual(await readdir(d.profiles), []);
  });

  it("a second hail with another state dir is told the profile is held, and names the lock beside the profile", async () => {
    const d = await layout();
    const first = acquired(await lockProfileFiles(join(d.stateA, "k.lock"), join(d.profiles, "app"), "daemon"));
    const second = await lockProfileFiles(join(d.stateB, "k.lock"), join(d.profiles, "app"), "oneshot");
    assert.equal(second.kind, "held");
    assert.equal(second.kind === "held" && second.file, join(d.profiles, "app.hail-lock-link"));
    assert.equal(second.kind === "held" && second.holder.command, "daemon");
    assert.deepEqual(await readdir(d.stateB), [], "the second hail's state-dir lock is released again");
    await first.release();
  });

  it("a second hail through a symlinked profiles dir is held too: the lock names the canonical directory", async () => {
    const d = await layout();
    const first = acquired(await lockProfileFiles(join(d.stateA, "k.lock"), join(d.profiles, "app"), "daemon"));
    const second = await lockProfileFiles(join(d.stateB, "other-key.lock"), join(d.linked, "app"), "oneshot");
    assert.equal(second.kind, "held");
    assert.equal(second.kind === "held" && second.file, join(d.profiles, "app.hail-lock-link"));
    await first.release();
    await acquired(await lockProfileFiles(join(d.stateB, "other-key.lock"), join(d.linked, "app"), "oneshot")).release();
  });

  it("a held state-dir lock is reported first, and the lock beside the profile is not touched", async () => {
    const d = await layout();
    const first = acquired(await lockProfileFiles(join(d.stateA, "k.lock"), join(d.profiles, "app"), "daemon"));
    const again = await lockProfileFiles(join(d.stateA, "k.lock"), join(d.linked, "app"), "oneshot");
    assert.equal(again.kind === "held" && again.file, join(d.stateA, "k.lock"));
    await first.release();
  });

  it("does not disturb another profile in the same directory", async () => {
    const d = await layout();
    const app = acquired(await lockProfileFiles(join(d.stateA, "a.lock"), join(d.profiles, "app"), "daemon"));
    const other = acquired(await lockProfileFiles(join(d.stateA, "b.lock"), join(d.profiles, "app2"), "daemon"));
    await other.release();
    await app.release();
  });
});

describe("besideProfileLock", () => {
  it("makes a missing profile directory (mode 0755 whatever the umask), as the deployment would", async () => {
    const d = await layout();
    const old = process.umask(0);
    try {
      assert.equal(await besideProfileLock(join(d.linked, "team", "app")), join(d.profiles, "team", "app.hail-lock-link"));
    } finally {
      process.umask(old);
    }
    assert.equal((await lstat(join(d.profiles, "team"))).mode & 0o7777, 0o755);
  });
});

describe("retiring a removed target (makeDir false)", () => {
  it("makes no directory: a profile whose directory is gone has only its state-dir lock taken", async () => {
    const d = await layout();
    assert.equal(await besideProfileLock(join(d.profiles, "gone", "app"), false), null);
    const lock = acquired(await lockProfileFiles(join(d.stateA, "k.lock"), join(d.profiles, "gone", "app"), "retire", false));
    assert.deepEqual(await readdir(d.profiles), [], "no directory made");
    assert.deepEqual(await readdir(d.stateA), ["k.lock"]);
    await lock.release();
    assert.deepEqual(await readdir(d.stateA), []);
  });
});

describe("profileLockName", () => {
  it("is <name>.hail-lock-link: never nix-env's <name>.lock, never a generation <name>-N-link, but ending in -link", () => {
    assert.equal(profileLockName("myapp"), "myapp.hail-lock-link");
    for (const profile of ["myapp", "myapp.hail", "myapp.hail-lock", "myapp.hail-lock-link"]) assert.equal(parseGeneration(profile, profileLockName("myapp")), null, profile);
    assert.ok(besideFile(join("/p", profileLockName("myapp")), ".1.ab.tmp").endsWith("-link"), "its temporary files end in -link too");
  });

  it("fits the file system for a 250-byte profile name, readable and distinct", () => {
    const a = profileLockName(`${"p".repeat(249)}a`);
    const b = profileLockName(`${"p".repeat(249)}b`);
    assert.ok(Buffer.byteLength(a) <= 255);
    assert.match(a, /^p+~[0-9a-f]{32}\.hail-lock-link$/);
    assert.notEqual(a, b);
    assert.equal(profileLockName("p".repeat(230)), `${"p".repeat(230)}.hail-lock-link`);
  });
});
