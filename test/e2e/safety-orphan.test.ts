// An activation outlives a hail killed with -9 (it runs in its own process group); the next
// run waits for it or kills it before it converges, so two activations never overlap.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { createWorld, greenGate, groupMembers, killGroup, loggedActivation, publishedApps, waitUntil, type World } from "./world.js";

describe("an activation orphaned by kill -9 of hail", () => {
  let w: World;
  let marker: string;
  let pidFile: string;

  beforeEach(async () => {
    w = await createWorld();
    marker = path.join(w.lab.root, "slow-once");
    pidFile = path.join(w.lab.root, "activation.pid");
    // Slow only the first time: the run after the crash activates quickly.
    const [app] = (await publishedApps(w.lab, {
      name: "myapp",
      version: "1",
      activate: loggedActivation('if [ ! -e "$SLOW_ONCE" ]; then touch "$SLOW_ONCE"; echo $$ > "$PIDFILE"; sleep "$SLEEP"; echo "first activation done" >> "$HAIL_TEST_ACTIVATION_LOG"; fi'),
    })) as [string];
    for (const b of greenGate(100, 10, app)) w.hydra.addBuild(b);
  });
  afterEach(async () => {
    const pid = await writtenPid();
    if (pid !== null) await killGroup(pid, w.lab.root);
    await w.close();
  });

  /**
   * The pid the activation wrote, once the whole line is there, else null: the shell creates
   * the file (`> "$PIDFILE"`) before `echo` writes to it, and a reader in between sees it empty.
   */
  async function writtenPid(): Promise<number | null> {
    const text = await readFile(pidFile, "utf8").catch(() => "");
    const m = /^([1-9]\d*)\n$/.exec(text);
    return m ? Number(m[1]) : null;
  }

  /** A one-shot killed with -9 during its activation; returns the activation's process group. */
  async function orphan(sleep: string): Promise<number> {
    const env = { ...w.env, SLOW_ONCE: marker, PIDFILE: pidFile, SLEEP: sleep };
    const hail = w.startDaemon([...w.gateArgs("myapp"), "--oneshot"], env);
    await waitUntil(async () => (await writtenPid()) !== null, "the activation to start and write its pid");
    const pgid = (await writtenPid()) as number;
    // the moment hail has noted the activation's process group in the state file
    await waitUntil(async () => (await w.readState("myapp"))?.activation != null, "the process group in the state file", 20_000);
    assert.equal((await w.readState("myapp"))?.activation?.pgid, pgid, "hail noted the group the activation runs in");
    await hail.stop("SIGKILL");
    assert.ok((await groupMembers(pgid)).length > 0, "the activation outlived hail");
    return pgid;
  }

  it("still running past --activate-timeout: the next run kills it first, says so, then converges", async () => {
    const pgid = await orphan("120");
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--activate-timeout", "2s"], { SLOW_ONCE: marker, SLEEP: "0" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`killed the earlier activation \\(process group ${pgid}\\)`));
    assert.deepEqual(await groupMembers(pgid), [], "the orphaned group is gone");
    const activations = await w.activations();
    assert.ok(!activations.includes("first activation done"), "the orphan never finished");
    assert.equal(activations.filter((l) => l.startsWith("activated ")).length, 1, "one activation ran to its end: the converging one");
    assert.equal((await w.readState("myapp"))?.activation, null);
  });

  it("finishing within --activate-timeout: the next run waits for it, says so, and only then activates", async () => {
    const pgid = await orphan("4");
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], { SLOW_ONCE: marker, SLEEP: "0" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`earlier activation \\(process group ${pgid}\\) finished`));
    const activations = await w.activations();
    const done = activations.indexOf("first activation done");
    assert.ok(done >= 0, activations.join("\n"));
    assert.ok(activations.slice(done + 1).some((l) => l.startsWith("activated ")), `the converging activation ran after the first ended: ${activations.join("\n")}`);
  });
});
