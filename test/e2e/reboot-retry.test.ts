// A reboot command that fails is tried again at a later pass inside the window (issue 22,
// point 7): not at once, from the retry time the state file records. The window is twelve hours
// away from the current UTC hour, so TZ=Etc/GMT-12 (UTC+12) is inside it. The built CLI, real
// Nix, the Hydra test server.
import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { FakeSystem } from "../support/nixos-systems.js";
import { bootedSystemLike, publishedSystems } from "../support/nixos-systems.js";
import { readLines } from "../support/cli.js";
import { createWorld, greenGate, type World } from "./world.js";

const INSIDE = { TZ: "Etc/GMT-12" };

function windowAroundUtcPlus12(): string {
  const h = (new Date().getUTCHours() + 12) % 24;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad((h + 23) % 24)}:30-${pad((h + 1) % 24)}:30`;
}

describe("a failing reboot command", () => {
  let w: World;
  let rebootLog: string;
  let rebootScript: string;
  let booted: string;
  let oldKernel: FakeSystem, newKernel: FakeSystem;
  const hail = () =>
    w.hail([...w.gateArgs("system"), "--nixos", "--booted-system", booted, "--oneshot", "--reboot-window", windowAroundUtcPlus12(), "--reboot-command", rebootScript], INSIDE);

  before(async () => {
    w = await createWorld();
    rebootLog = path.join(w.lab.root, "reboots.log");
    rebootScript = path.join(w.lab.root, "fake-reboot");
    // fails at its first run, works at the next ones
    await writeFile(rebootScript, `#!/bin/sh\necho tried >> ${rebootLog}\n[ "$(wc -l < ${rebootLog})" -gt 1 ] || { echo "reboot refused" >&2; exit 1; }\n`);
    await chmod(rebootScript, 0o755);
    [oldKernel, newKernel] = (await publishedSystems(w.lab, { name: "host", version: "1", kernel: "6.1" }, { name: "host", version: "2", kernel: "6.6" })) as [FakeSystem, FakeSystem];
    booted = await bootedSystemLike(path.join(w.lab.root, "booted"), oldKernel);
  });
  after(() => w.close());

  it("keeps the reboot pending with a retry time, waits for it, then runs the command again", async () => {
    for (const b of greenGate(100, 10, newKernel.path)) w.hydra.addBuild(b);
    const first = await hail();
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(await readLines(rebootLog), ["tried"]);
    assert.match(first.stderr, /the reboot command failed \(attempt 1 of 4\): .*; hail tries again from \S+, inside the window \(attempt 2 of 4\)/);
    const pending = (await w.readState("system"))?.rebootPending;
    assert.equal(pending?.storePath, newKernel.path);
    assert.equal(pending?.failures, 1);
    const retryAt = Date.parse(pending?.retryAt ?? "");
    assert.ok(retryAt > Date.now(), `a retry time ahead: ${pending?.retryAt}`);

    // right away: not yet
    const early = await hail();
    assert.equal(early.code, 0, early.stderr);
    assert.deepEqual(await readLines(rebootLog), ["tried"]);
    assert.match(early.stderr, /the reboot command failed once, next try from /);

    // the retry time has come (the state file says so, as it would five minutes later)
    const state = JSON.parse(await readFile(w.stateFile("system"), "utf8")) as { rebootPending: { retryAt: string } };
    state.rebootPending.retryAt = new Date(Date.now() - 1000).toISOString();
    await writeFile(w.stateFile("system"), JSON.stringify(state));
    const retried = await hail();
    assert.equal(retried.code, 0, retried.stderr);
    assert.deepEqual(await readLines(rebootLog), ["tried", "tried"], "the command ran again, and worked");
    assert.equal((await w.readState("system"))?.rebootPending, null);
    const after = await hail();
    assert.equal(after.code, 0, after.stderr);
    assert.deepEqual(await readLines(rebootLog), ["tried", "tried"], "no reboot after the one that worked");
  });
});
