// One hail per profile under contention: a stale, empty or never-written lock is taken over by
// exactly one of many hails started at once, and no update of the state file is lost while a
// daemon writes it every pass.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { createWorld, greenGate, loggedActivation, publishedApps, stateKey, waitForExit, type World } from "./world.js";

/** A pid that belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const exited = execa(process.execPath, ["-e", ""]);
  const pid = exited.pid;
  await exited;
  assert.ok(pid !== undefined);
  return pid;
}

const ROUNDS = 20;
const RACERS = 8;

describe("taking over a lock", () => {
  let w: World;
  let tmpfs: string | null = null;

  before(async () => {
    w = await createWorld();
    const [app1] = (await publishedApps(w.lab, { name: "myapp", version: "1", activate: loggedActivation('echo "profile $HAIL_PROFILE" >> "$HAIL_TEST_ACTIVATION_LOG"') })) as [string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
  });
  after(async () => {
    if (tmpfs !== null) await execa("umount", [tmpfs], { reject: false });
    await w.close();
  });

  /** RACERS one-shots on a fresh profile each round whose lock is `lockText`; activations per round. */
  async function race(name: string, stateDir: string, lockText: () => Promise<string | null>): Promise<number[]> {
    const perRound: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const profile = `${name}${round}`;
      const text = await lockText();
      // where hail looks: STATE_DIR/<key of the profile's absolute path>.lock, mode 0600 as hail writes it
      if (text !== null) await writeFile(path.join(stateDir, `${stateKey(path.join(w.lab.profilesDir, profile))}.lock`), text, { mode: 0o600 });
      const runs = await Promise.all(
        Array.from({ length: RACERS }, () => w.hail([...w.gateArgs(profile), "--oneshot", "--state-dir", stateDir])),
      );
      for (const r of runs) assert.ok([0, 75].includes(r.code), `exit ${r.code}: ${r.stderr}`);
      const profileLine = `profile ${path.join(w.lab.profilesDir, profile)}`;
      perRound.push((await w.activations()).filter((l) => l === profileLine).length);
    }
    return perRound;
  }

  it(`a lock left by a dead process: of ${RACERS} one-shots started at once, exactly one deploys (${ROUNDS} rounds)`, async () => {
    await mkdir(w.stateDir, { recursive: true });
    const pid = await deadPid();
    const stale = async () => `${JSON.stringify({ pid, hostname: os.hostname(), since: new Date().toISOString(), processStart: null, command: "oneshot" })}\n`;
    assert.deepEqual(await race("stale", w.stateDir, stale), Array(ROUNDS).fill(1));
  });

  it("an empty lock file (a crash while writing it) is stale: exactly one deploys, none wedged", async () => {
    assert.deepEqual(await race("empty", w.stateDir, async () => ""), Array(ROUNDS).fill(1));
  });

  it("a full disk: a clean exit 74 naming the state dir, nothing left behind; once space is free exactly one deploys", async () => {
    tmpfs = await mkdtemp(path.join(w.lab.root, "small-"));
    // mode=0700: a tmpfs root is 1777 by default, and hail refuses a state dir others can write
    await execa("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", tmpfs]);
    const filler = path.join(tmpfs, "filler");
    await execa("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k", "count=256"], { reject: false });
    const full = await w.hail([...w.gateArgs("full"), "--oneshot", "--state-dir", tmpfs]);
    assert.equal(full.code, 74, full.stderr);
    assert.doesNotMatch(full.stderr, /unexpected error|\n\s+at /);
    assert.ok(full.stderr.includes(tmpfs), full.stderr);
    assert.deepEqual(await readdir(tmpfs), ["filler"], "no lock, temp or state file left");
    await rm(filler);
    assert.deepEqual(await race("full", tmpfs, async () => null), Array(ROUNDS).fill(1));
  });
});

describe("holds are never lost", () => {
  let w: World;
  let app1: string;

  before(async () => {
    w = await createWorld();
    [app1] = (await publishedApps(w.lab, { name: "myapp", version: "1" })) as [string];
  });
  after(() => w.close());

  it("150 `hail hold` runs beside a daemon that writes the state file every pass: every hold lands", async () => {
    // Hydra failing makes the daemon record an error, and write the state file, every pass.
    w.hydra.override(/.*/, { status: 500, body: "boom" });
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "100ms", "--timeout", "1s"]);
    await daemon.waitFor(/Hydra unavailable/, "a failing pass");
    const lost: string[] = [];
    const check = async (reason: string) => {
      const now = (await w.readState("myapp"))?.hold?.reason ?? null;
      if (now !== reason) lost.push(`${reason}: the state file says ${String(now)}`);
    };
    for (let i = 0; i < 150; i++) {
      if (i > 0) await check(`hold ${i - 1}`); // still there a moment later, after more passes
      const r = await w.hail(["hold", "myapp", ...w.manageArgs(), "--reason", `hold ${i}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    await daemon.waitFor(/Hydra unavailable[\s\S]*Hydra unavailable[\s\S]*Hydra unavailable/, "more passes");
    await check("hold 149");
    assert.deepEqual(lost, []);
    assert.ok(daemon.alive);
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });

  it("a hold given while a one-shot realises the build stops it before the switch", async () => {
    w.hydra.clearOverrides();
    await w.hail(["release", "myapp", ...w.manageArgs()]);
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const oneshot = w.startDaemon([...w.gateArgs("myapp"), "--oneshot"], { ...w.env, HAIL_TEST_SLOW_AFTER_NIX_STORE: "3" });
    await oneshot.waitFor(async () => (await w.nixCalls()).some((c) => c.startsWith("nix-store --realise")), "the realise");
    const held = await w.hail(["hold", "myapp", ...w.manageArgs(), "--reason", "incident"]);
    assert.equal(held.code, 0, held.stderr);
    assert.equal(await waitForExit(oneshot), 0, oneshot.stderr);
    assert.equal(await w.profileTarget("myapp"), null, "the profile was not switched");
    assert.ok(!(await w.nixCalls()).some((c) => c.includes("--set")), "no nix-env --set ran");
    assert.equal((await w.readState("myapp"))?.lastAttempt?.endedAt != null, true, "the attempt is closed");
  });
});
