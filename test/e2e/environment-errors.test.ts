// Environment errors end the command at once with 73/74, the path and the OS reason, never
// 70 with a stack trace, and never a loop (issue 29 point 8, issue 22 point 2): a state dir
// that cannot be made or is not a directory, a symlink loop, a name too long, a state file
// on a mount point (EBUSY); and the operator's own slips: a NUL in a config file's profile
// name, an empty --profiles-dir (64).
import assert from "node:assert/strict";
import { copyFile, mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { runHail } from "../support/cli.js";
import { assertEnded, runHailIn, SAFETY_TIMEOUT_MS } from "./ended.js";
import { stateKey, worldAtGreenGate, type World } from "./world.js";

let w: World;
let n = 0;
const cleanups: (() => Promise<unknown>)[] = [];
before(async () => {
  ({ world: w } = await worldAtGreenGate("1"));
});
after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await w.close();
});

const fresh = (name: string) => path.join(w.lab.root, `${name}-${++n}`);
const run = (args: string[]) => runHail(args, w.env, SAFETY_TIMEOUT_MS);

describe("environment errors: 73/74 at once, with the path and the reason", () => {
  const oneshot = (stateDir: string) => run([...w.gateArgs("myapp"), "--oneshot", "--state-dir", stateDir]);
  const hold = (stateDir: string) => run(["hold", "myapp", "--new", "--profiles-dir", w.lab.profilesDir, "--state-dir", stateDir]);

  it("a state dir that cannot be created (under /proc): 73 at once, by a one-shot and by hail hold", async () => {
    const stateDir = `/proc/hail-state-${process.pid}`;
    assertEnded(await oneshot(stateDir), 73, stateDir, /cannot be created/);
    assertEnded(await hold(stateDir), 73, stateDir, /cannot be created/);
  });

  it("a state dir that is a regular file: 73, not a directory, by a one-shot and by hail hold", async () => {
    const stateDir = fresh("a-file");
    await writeFile(stateDir, "");
    assertEnded(await oneshot(stateDir), 73, `state dir ${stateDir}`, /not a directory \(a regular file\)/);
    assertEnded(await hold(stateDir), 73, `state dir ${stateDir}`, /not a directory/);
  });

  it("a state dir behind a symlink loop: 73 naming it and ELOOP", async () => {
    const loop = fresh("loop");
    await symlink(loop, loop);
    const stateDir = path.join(loop, "state");
    assertEnded(await oneshot(stateDir), 73, stateDir, /symlink loop\?\) \(ELOOP\)/);
    assertEnded(await hold(stateDir), 73, stateDir, /ELOOP/);
  });

  it("a state dir whose name is too long for the file system: 73 naming it and ENAMETOOLONG", async () => {
    const stateDir = path.join(fresh("long"), "s".repeat(300));
    assertEnded(await oneshot(stateDir), 73, stateDir, /name too long for the file system \(ENAMETOOLONG\)/);
    assertEnded(await hold(stateDir), 73, stateDir, /ENAMETOOLONG/);
  });

  it("a flat profile name of 230 characters: 73 at once, before nix-env would fail on its temporary link name, with no failure mark", async () => {
    const calls = (await w.nixCalls()).length;
    const stateDir = fresh("state");
    const name = "p".repeat(230);
    const r = await run([...w.gateArgs(name), "--oneshot", "--state-dir", stateDir]);
    assertEnded(r, 73, `--profile ${name}`, /230 bytes.*\(ENAMETOOLONG\): use at most 220 bytes, or nest the name/);
    assert.equal((await w.nixCalls()).length, calls, "no nix command ran");
    assert.deepEqual(await readdir(stateDir).catch(() => []), [], "no state written, so no failure mark");
  });

  it("a state file on a mount point (a bind mount): its replacement fails with EBUSY, 73 naming it", async () => {
    const stateDir = fresh("state");
    const first = await oneshot(stateDir);
    assert.equal(first.code, 0, first.stderr);
    const file = path.join(stateDir, `${stateKey(path.join(w.lab.profilesDir, "myapp"))}.json`);
    const copy = fresh("state-copy");
    await copyFile(file, copy);
    await execa("mount", ["--bind", copy, file]);
    cleanups.push(() => execa("umount", [file], { reject: false }));
    const r = await hold(stateDir);
    assertEnded(r, 73, file, /busy \(a mount point\?\) \(EBUSY\)/);
  });
});

describe("the operator's slips: 64 naming the field or flag", () => {

  it("a NUL in a config file's profile name: 64 naming the field, by run, plan and status", async () => {
    const calls = (await w.nixCalls()).length;
    const config = fresh("hail.json");
    const target = { profile: "my\u0000app", gateJob: w.gateUrl, constituent: "myapp" };
    await writeFile(config, JSON.stringify({ profilesDir: w.lab.profilesDir, stateDir: fresh("state"), targets: [target] }));
    for (const args of [["--config", config, "--oneshot"], ["plan", "--config", config], ["status", "--config", config]]) {
      assertEnded(await run(args), 64, config, /targets\[0\]\.profile: must not contain a NUL character/);
    }
    assert.equal((await w.nixCalls()).length, calls, "no nix command ran");
  });

  it("an empty --profiles-dir: 64, as an empty --state-dir, by run, plan and hold", async () => {
    const calls = (await w.nixCalls()).length;
    const state = fresh("state");
    await mkdir(state, { mode: 0o700 });
    // Run in a directory of the lab: a hail that took '' as the current directory would
    // deploy the profile there.
    const cwd = fresh("cwd");
    await mkdir(cwd);
    const target = ["--gate-job", w.gateUrl, "--constituent", "myapp", "--profile", "myapp", "--state-dir", state];
    for (const args of [[...target, "--oneshot", "--profiles-dir", ""], ["plan", ...target, "--profiles-dir", ""], ["hold", "myapp", "--state-dir", state, "--profiles-dir", ""]]) {
      assertEnded(await runHailIn(args, w.env, { cwd }), 64, /--profiles-dir is empty/);
    }
    assert.deepEqual(await readdir(cwd), [], "nothing made in the current directory");
    assertEnded(await run(["hold", "myapp", "--profiles-dir", w.lab.profilesDir, "--state-dir", ""]), 64, /--state-dir is empty/);
    assert.equal((await w.nixCalls()).length, calls, "no nix command ran");
  });
});
