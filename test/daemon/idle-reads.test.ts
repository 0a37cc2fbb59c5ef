// What an idle daemon pass reads from disk: the profile's links and the state file's
// metadata, every pass, so that a change made by someone else between two passes is seen.
// These reads are synchronous (a readlink or a stat takes microseconds; handing each to
// libuv's thread pool and back cost an idle pass more than the call itself), which the
// thread-pool checks below pin: while a read is under way, no FSReqPromise may be pending.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rename, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readProfileTarget } from "../../src/profile/links.js";
import { createStateStore } from "../../src/state/state-store.js";

/** How many file-system requests are out in libuv's thread pool right now. */
function poolRequests(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "FSReqPromise" || r === "FSReqCallback").length;
}

describe("an idle pass's reads", () => {
  let dir: string;
  let storeDir: string;
  let profiles: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hail-idle-reads-"));
    storeDir = join(dir, "store");
    profiles = join(dir, "profiles");
    await mkdir(join(storeDir, "0123456789abcdfghijklmnpqrsvwxyz-app-1.0"), { recursive: true });
    await mkdir(join(storeDir, "l9r346p3d25vs4g5v37f3r3f28js97kb-app-1.1"), { recursive: true });
    await mkdir(profiles);
    await symlink(join(storeDir, "0123456789abcdfghijklmnpqrsvwxyz-app-1.0"), join(profiles, "app-1-link"));
    await symlink(join(storeDir, "l9r346p3d25vs4g5v37f3r3f28js97kb-app-1.1"), join(profiles, "app-2-link"));
    await symlink("app-1-link", join(profiles, "app"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("the profile's links are read without the thread pool", async () => {
    const before = poolRequests();
    const reading = readProfileTarget(join(profiles, "app"), storeDir);
    assert.equal(poolRequests(), before, "a readlink went to the thread pool");
    assert.equal(await reading, join(storeDir, "0123456789abcdfghijklmnpqrsvwxyz-app-1.0"));
  });

  it("a profile switched by someone else (nix-env, a rollback by hand) is seen at the next read", async () => {
    const app = join(profiles, "app");
    assert.equal(await readProfileTarget(app, storeDir), join(storeDir, "0123456789abcdfghijklmnpqrsvwxyz-app-1.0"));
    // as nix-env switches: a new link renamed over the profile
    await symlink("app-2-link", join(profiles, "app.tmp"));
    await rename(join(profiles, "app.tmp"), app);
    assert.equal(await readProfileTarget(app, storeDir), join(storeDir, "l9r346p3d25vs4g5v37f3r3f28js97kb-app-1.1"));
  });

  it("an unchanged state file is checked without the thread pool, and not read again", async () => {
    const profile = { name: "app", path: join(profiles, "app") };
    const store = createStateStore(join(dir, "state-unchanged.json"), profile);
    await store.update((s) => ({ ...s, metrics: { ...s.metrics, rollbacks: 7 } }));
    const first = await store.read();
    const before = poolRequests();
    const reading = store.read();
    assert.equal(poolRequests(), before, "the state file's stat or read went to the thread pool");
    assert.equal(await reading, first, "the same parsed state, not a new parse");
  });

  it("a state file changed by another hail (a hold) between reads is read again", async () => {
    const profile = { name: "app", path: join(profiles, "app") };
    const file = join(dir, "state-changed.json");
    const daemon = createStateStore(file, profile);
    await daemon.update((s) => s);
    assert.equal((await daemon.read()).hold, null);
    // `hail hold` in another process: its own store on the same file
    await createStateStore(file, profile).update((s) => ({ ...s, hold: { reason: "by hand", since: new Date(0).toISOString(), until: null } }));
    assert.equal((await daemon.read()).hold?.reason, "by hand");
  });
});
