// Errors that are not hail's own (a read-only or immutable directory, a profile that is a
// directory, a port in use) end in one clear line and a documented exit code, never a stack
// trace and exit 70, and never leave an open attempt behind.
import assert from "node:assert/strict";
import { mkdir, mkdtemp } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { execa } from "execa";
import { createWorld, greenGate, publishedApps, type World } from "./world.js";

function assertOneClearLine(stderr: string): void {
  assert.doesNotMatch(stderr, /unexpected error|\n\s+at /, stderr);
}

describe("errors of the machine, not of hail", () => {
  let w: World;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    w = await createWorld();
    const [app1] = (await publishedApps(w.lab, { name: "myapp", version: "1" })) as [string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await w.close();
  });

  it("a state dir on a read-only file system: exit 73 naming it", async () => {
    const ro = await mkdtemp(path.join(w.lab.root, "ro-"));
    await execa("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", ro]);
    cleanups.push(() => execa("umount", [ro], { reject: false }));
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--state-dir", path.join(ro, "state")]);
    assert.equal(r.code, 73, r.stderr);
    assert.ok(r.stderr.includes(ro), r.stderr);
    assert.match(r.stderr, /read-only/);
    assertOneClearLine(r.stderr);
  });

  it("a profile whose directory cannot be created (EPERM): exit 73, the attempt closed, no phantom on the next run", async () => {
    const locked = path.join(w.lab.profilesDir, "locked");
    await mkdir(locked);
    await execa("chattr", ["+i", locked]);
    cleanups.push(() => execa("chattr", ["-i", locked], { reject: false }));
    const r = await w.hail([...w.gateArgs("locked/sub/app"), "--oneshot"]);
    assert.equal(r.code, 73, r.stderr);
    assert.ok(r.stderr.includes(path.join(locked, "sub")), r.stderr);
    assertOneClearLine(r.stderr);
    const state = await w.readState("locked/sub/app");
    // hail stops at the lock beside the profile, before it opens an attempt
    assert.ok(state === null || state.lastAttempt?.endedAt != null, "no attempt left open");
    assert.deepEqual(state?.failed ?? [], [], "the build is not marked bad");
    await execa("chattr", ["-i", locked]);
    const again = await w.hail([...w.gateArgs("locked/sub/app"), "--oneshot"]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /earlier run stopped/);
  });

  it("--profile that is a directory: exit 64 naming it, nothing run", async () => {
    await mkdir(path.join(w.lab.profilesDir, "adir"));
    const r = await w.hail([...w.gateArgs("adir"), "--oneshot"]);
    assert.equal(r.code, 64, r.stderr);
    assert.ok(r.stderr.includes(path.join(w.lab.profilesDir, "adir")), r.stderr);
    assertOneClearLine(r.stderr);
    assert.deepEqual(await w.nixCalls(), []);
  });

  it("--metrics-listen on a port in use, or an unknown host: exit 64 naming it", async () => {
    const busy = http.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => busy.close(r)));
    const port = (busy.address() as AddressInfo).port;
    const inUse = await w.hail([...w.gateArgs("myapp"), "--metrics-listen", `127.0.0.1:${port}`]);
    assert.equal(inUse.code, 64, inUse.stderr);
    assert.ok(inUse.stderr.includes(`127.0.0.1:${port}`), inUse.stderr);
    assert.match(inUse.stderr, /in use/);
    assertOneClearLine(inUse.stderr);
    const unknown = await w.hail([...w.gateArgs("myapp"), "--metrics-listen", "no-such-host.invalid:0"]);
    assert.equal(unknown.code, 64, unknown.stderr);
    assert.match(unknown.stderr, /no-such-host\.invalid/);
    assertOneClearLine(unknown.stderr);
  });

  it("a hook that cannot be run (a directory) is logged and counted; the deployment stands", async () => {
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--on-success", w.lab.root]);
    assert.equal(r.code, 0, r.stderr);
    assertOneClearLine(r.stderr);
    assert.match(r.stderr, /on-success hook/);
  });
});
