import assert from "node:assert/strict";
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, truncate, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { EnvironmentError } from "../../src/errors.js";
import { emptyState } from "../../src/state/schema.js";
import type { State } from "../../src/state/schema.js";
import { createStateStore, MAX_STATE_BYTES, StateFileError } from "../../src/state/state-store.js";
import { setHold } from "../../src/state/transitions.js";

const AT = "2026-03-01T10:00:00.000Z";
const PROFILE = { name: "app", path: "/srv/profiles/app" };

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "hail-state-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh state directory per test (not created: the store makes it). */
function freshDir(): string {
  n += 1;
  return join(root, `s${n}`);
}

function stateText(state: State): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

describe("createStateStore", () => {
  it("reads a fresh state for this profile while there is no file", async () => {
    const store = createStateStore(join(freshDir(), "app.json"), PROFILE);
    assert.deepEqual(await store.read(), emptyState("app", "/srv/profiles/app"));
  });

  it("update writes the changed state (mode 0600), read gives it back, and no lock or temp file stays", async () => {
    const dir = freshDir();
    const file = join(dir, "app.json");
    const store = createStateStore(file, PROFILE);
    const written = await store.update((s) => setHold(s, "freeze", null, AT));
    assert.deepEqual(written.hold, { reason: "freeze", since: AT, until: null });
    assert.deepEqual(JSON.parse(await readFile(file, "utf8")), written);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await createStateStore(file, PROFILE).read(), written);
    assert.deepEqual(await readdir(dir), ["app.json"]);
  });

  it("update changes the state on disk, not an earlier read's copy", async () => {
    const file = join(freshDir(), "app.json");
    const daemon = createStateStore(file, PROFILE);
    await daemon.update((s) => s);
    await daemon.read();
    await createStateStore(file, PROFILE).update((s) => setHold(s, "by hail hold", null, AT));
    const after = await daemon.update((s) => ({ ...s, managedBy: "/etc/hail.json" }));
    assert.equal(after.hold?.reason, "by hail hold", "the hold written meanwhile is kept");
    assert.equal(after.managedBy, "/etc/hail.json");
  });

  it("update reads the disk even when the file looks unchanged (same inode, size and mtime)", async () => {
    const file = join(freshDir(), "app.json");
    const store = createStateStore(file, PROFILE);
    await store.update((s) => setHold(s, "aaaa", null, AT));
    const fixed = new Date("2026-01-01T00:00:00Z");
    await utimes(file, fixed, fixed);
    assert.equal((await store.read()).hold?.reason, "aaaa");
    await writeFile(file, (await readFile(file, "utf8")).replace('"aaaa"', '"bbbb"'));
    await utimes(file, fixed, fixed);
    const after = await store.update((s) => ({ ...s, managedBy: "/etc/hail.json" }));
    assert.equal(after.hold?.reason, "bbbb");
  });

  it("reads again a file replaced behind its back", async () => {
    const dir = freshDir();
    const file = join(dir, "app.json");
    const store = createStateStore(file, PROFILE);
    await store.update((s) => s);
    assert.equal((await store.read()).hold, null);
    await writeFile(join(dir, "new.json"), stateText(setHold(emptyState("app", PROFILE.path), "elsewhere", null, AT)));
    await rename(join(dir, "new.json"), file);
    assert.equal((await store.read()).hold?.reason, "elsewhere");
  });

  it("keeps keys a newer hail added when it rewrites the file", async () => {
    const file = join(freshDir(), "app.json");
    const store = createStateStore(file, PROFILE);
    await store.update((s) => s);
    const json = JSON.parse(await readFile(file, "utf8"));
    await writeFile(file, JSON.stringify({ ...json, futureKey: { x: 1 } }));
    await store.update((s) => setHold(s, null, null, AT));
    assert.deepEqual(JSON.parse(await readFile(file, "utf8")).futureKey, { x: 1 });
  });

  for (const [what, text, message] of [
    ["not JSON", "{ half", /is not valid JSON/],
    ["of another version", JSON.stringify({ version: 2 }), /has version 2, this hail reads version 1/],
    ["damaged", JSON.stringify({ ...emptyState("app", PROFILE.path), failed: "oops" }), /is damaged \(failed: /],
  ] as const) {
    it(`refuses a state file that is ${what} (exit 64) and never overwrites it`, async () => {
      const file = join(freshDir(), "app.json");
      await createStateStore(file, PROFILE).update((s) => s);
      await writeFile(file, text);
      const store = createStateStore(file, PROFILE);
      const refused = (err: unknown) => err instanceof StateFileError && err.exitCode === 64 && message.test(err.message) && err.message.includes(file);
      await assert.rejects(store.read(), refused);
      await assert.rejects(store.update((s) => setHold(s, null, null, AT)), refused);
      assert.equal(await readFile(file, "utf8"), text);
    });
  }
});

describe("createStateStore with the file of an older hail (keyed by the name under --profiles-dir)", () => {
  it("reads the legacy file while the new one does not exist, and the first update moves it", async () => {
    const dir = freshDir();
    const file = join(dir, "srv%2Fprofiles%2Fapp.json");
    const legacy = join(dir, "app.json");
    const store = createStateStore(file, PROFILE, legacy);
    await createStateStore(legacy, PROFILE).update((s) => setHold(s, "old hold", null, AT));
    assert.equal((await store.read()).hold?.reason, "old hold");
    const written = await store.update((s) => ({ ...s, metrics: { ...s.metrics, rollbacks: 3 } }));
    assert.equal(written.hold?.reason, "old hold", "the hold carried over");
    assert.equal(written.metrics.rollbacks, 3);
    assert.deepEqual((await readdir(dir)).sort(), ["srv%2Fprofiles%2Fapp.json"], "the legacy file is gone");
  });

  it("ignores and keeps a legacy file that belongs to another profile of the same name", async () => {
    const dir = freshDir();
    const legacy = join(dir, "app.json");
    const other = { name: "app", path: "/elsewhere/profiles/app" };
    await createStateStore(legacy, other).update((s) => setHold(s, "other's hold", null, AT));
    const before = await readFile(legacy, "utf8");
    const store = createStateStore(join(dir, "srv%2Fprofiles%2Fapp.json"), PROFILE, legacy);
    assert.equal((await store.read()).hold, null);
    await store.update((s) => s);
    assert.equal(await readFile(legacy, "utf8"), before);
  });

  it("does not read the legacy file once the new one exists", async () => {
    const dir = freshDir();
    const file = join(dir, "new.json");
    const legacy = join(dir, "app.json");
    await createStateStore(file, PROFILE).update((s) => setHold(s, "new", null, AT));
    await createStateStore(legacy, PROFILE).update((s) => setHold(s, "old", null, AT));
    assert.equal((await createStateStore(file, PROFILE, legacy).read()).hold?.reason, "new");
  });
});

describe("createStateStore trusts only its own state dir and files (exit 73)", () => {
  const refusedWith = (...fragments: string[]) => (err: unknown) => {
    assert.ok(err instanceof EnvironmentError, `expected EnvironmentError, got ${String(err)}`);
    assert.equal(err.exitCode, 73);
    for (const fragment of fragments) assert.ok(err.message.includes(fragment), `${JSON.stringify(fragment)} not in: ${err.message}`);
    return true;
  };

  it("refuses a file another user owns, even one that looked fine at the last read", async () => {
    const file = join(freshDir(), "app.json");
    const store = createStateStore(file, PROFILE);
    await store.update((s) => setHold(s, "mine", null, AT));
    assert.equal((await store.read()).hold?.reason, "mine");
    await chown(file, 65534, 65534);
    await assert.rejects(store.read(), refusedWith(`state file ${file}: refused`, "owned by uid 65534"));
    await assert.rejects(store.update((s) => s), refusedWith(file, "owned by uid 65534"));
  });

  it("refuses a FIFO, a symlink and a file over 1 MiB without reading them", async () => {
    const dir = freshDir();
    await mkdir(dir, { mode: 0o700 });
    const fifo = join(dir, "fifo.json");
    await execa("mkfifo", ["-m", "600", fifo]);
    const target = join(dir, "elsewhere");
    await writeFile(target, stateText(emptyState("app", PROFILE.path)), { mode: 0o600 });
    const link = join(dir, "link.json");
    await symlink(target, link);
    const big = join(dir, "big.json");
    await writeFile(big, "", { mode: 0o600 });
    await truncate(big, MAX_STATE_BYTES + 1);
    await assert.rejects(createStateStore(fifo, PROFILE).read(), refusedWith(fifo, "not a regular file (a FIFO"));
    await assert.rejects(createStateStore(link, PROFILE).read(), refusedWith(link, "symbolic link"));
    await assert.rejects(createStateStore(big, PROFILE).read(), refusedWith(big, "larger than 1 MiB"));
  });

  it("refuses a state dir others can write, and makes a new one 0700 whatever the umask", async () => {
    const open = freshDir();
    await mkdir(open);
    await chmod(open, 0o777);
    await assert.rejects(createStateStore(join(open, "app.json"), PROFILE).read(), refusedWith(`state dir ${open}`, "writable by group and others"));
    await assert.rejects(createStateStore(join(open, "app.json"), PROFILE).update((s) => s), refusedWith(`state dir ${open}`));
    const made = freshDir();
    const old = process.umask(0);
    try {
      await createStateStore(join(made, "app.json"), PROFILE).update((s) => s);
    } finally {
      process.umask(old);
    }
    assert.equal((await stat(made)).mode & 0o777, 0o700);
    assert.equal((await stat(join(made, "app.json"))).mode & 0o777, 0o600);
  });
});
