// The state file, the profile lock and `hail status`, end to end: the built CLI, the Hydra
// test server and real Nix (README, "Files" and "Security").
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { waitForExit, worldAtGreenGate, type World } from "./world.js";

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe("state file: written after a deployment, refused when unreadable", () => {
  let w: World;
  let app1: string;

  before(async () => {
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
  });
  after(() => w.close());

  it("a deployment writes STATE_DIR/<key of the absolute path>.json, version 1, with what was deployed from which builds", async () => {
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    const file = w.stateFile("myapp");
    assert.ok(existsSync(file), `${file} exists`);
    const state = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    assert.equal(state.version, 1);
    const deployed = state.lastDeployed as Record<string, unknown>;
    assert.equal(deployed.storePath, app1);
    assert.equal(deployed.buildId, 101);
    assert.equal(deployed.gateBuildId, 100);
    assert.deepEqual(deployed.evals, [10]);
    assert.match(String(deployed.at), ISO_TIME);
  });

  it("a nested profile name team/app has its state in one file, its path escaped", async () => {
    // The parent directory exists here, so this checks only how the state file is named.
    await mkdir(path.join(w.lab.profilesDir, "team"), { recursive: true });
    const r = await w.hail([...w.gateArgs("team/app"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("team/app"), app1);
    const file = w.stateFile("team/app");
    assert.ok(path.basename(file).endsWith("%2Fteam%2Fapp.json"), file);
    assert.ok(existsSync(file), `${file} exists`);
    const state = JSON.parse(await readFile(file, "utf8")) as { version: number; lastDeployed: { storePath: string } };
    assert.equal(state.version, 1);
    assert.equal(state.lastDeployed.storePath, app1);
    assert.ok(!existsSync(path.join(w.stateDir, "team")), "no state directory per name segment");
  });

  it("a nested profile name hail/app deploys even when PROFILES_DIR/hail does not exist yet", async () => {
    const r = await w.hail([...w.gateArgs("hail/app"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("hail/app"), app1);
    const state = JSON.parse(await readFile(w.stateFile("hail/app"), "utf8")) as { lastDeployed: { storePath: string } | null };
    assert.equal(state.lastDeployed?.storePath, app1);
  });

  const unreadable: [string, string, RegExp][] = [
    ["a corrupt file", "{not json", /not valid JSON/],
    ["an unknown version", '{"version": 2}', /version 2/],
  ];
  for (const [what, text, why] of unreadable) {
    it(`${what} makes --oneshot exit 64 naming the file, and leaves the file byte for byte`, async () => {
      const profile = what.includes("corrupt") ? "corrupt" : "future";
      const file = w.stateFile(profile);
      await mkdir(w.stateDir, { recursive: true });
      await writeFile(file, text);
      const callsBefore = (await w.nixCalls()).length;
      const r = await w.hail([...w.gateArgs(profile), "--oneshot"]);
      assert.equal(r.code, 64, r.stderr);
      assert.ok(r.stderr.includes(file), `stderr names ${file}:\n${r.stderr}`);
      assert.match(r.stderr, why);
      assert.equal(await readFile(file, "utf8"), text, "the state file is unchanged");
      assert.equal((await w.nixCalls()).length, callsBefore, "no nix command ran");
      assert.equal(await w.profileTarget(profile), null, "the profile was not created");
    });
  }

  it("a daemon on a corrupt state file refuses to start (exit 64) and leaves the file alone", async () => {
    const file = w.stateFile("corrupt");
    await writeFile(file, "{not json");
    const d = w.startDaemon([...w.gateArgs("corrupt"), "--poll-period", "1s"]);
    assert.equal(await waitForExit(d), 64, d.stderr);
    assert.ok(d.stderr.includes(file), `stderr names ${file}:\n${d.stderr}`);
    assert.equal(await readFile(file, "utf8"), "{not json");
  });
});

describe("profile lock: one hail per profile", () => {
  let w: World;
  let app1: string;

  before(async () => {
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => w.close());

  it("while a daemon runs, --oneshot exits 75 naming the daemon's pid (by name and by absolute path), a second daemon refuses", async () => {
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h"]);
    await daemon.waitFor(/hail started/, "the daemon to start");
    const pid = daemon.child.pid;
    assert.ok(pid !== undefined);
    const callsBefore = (await w.nixCalls()).length;

    // The profile is current, and still the answer is 75: the lock comes before any decision.
    const byName = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(byName.code, 75, byName.stderr);
    assert.match(byName.stderr, new RegExp(`pid ${pid}\\b`));
    assert.doesNotMatch(byName.stdout, /up to date/);

    const absolute = path.join(w.lab.profilesDir, "myapp");
    const byPath = await w.hail(["--gate-job", w.gateUrl, "--constituent", "myapp", "--profile", absolute, ...w.labArgs(), "--oneshot"]);
    assert.equal(byPath.code, 75, byPath.stderr);
    assert.match(byPath.stderr, new RegExp(`pid ${pid}\\b`));

    const second = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h"]);
    assert.equal(await waitForExit(second), 75, second.stderr);
    assert.match(second.stderr, new RegExp(`pid ${pid}\\b`));

    assert.equal((await w.nixCalls()).length, callsBefore, "the refused runs started no nix command");
    assert.ok(daemon.alive, "the first daemon keeps running");
    assert.equal(await daemon.stop("SIGTERM"), 0);

    const after = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(after.code, 0, `the lock is free once the daemon stopped: ${after.stderr}`);
  });

  it("a lock held by a live process is respected; one left by a dead process is taken over", async () => {
    const lockFile = w.stateFile("myapp").replace(/\.json$/, ".lock");
    const lockOf = (pid: number) => `${JSON.stringify({ pid, hostname: os.hostname(), since: new Date().toISOString(), processStart: null, command: "oneshot" })}\n`;

    // The test runner itself is alive: the same file format must block hail, or the
    // take-over below would prove nothing.
    await writeFile(lockFile, lockOf(process.pid));
    const blocked = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(blocked.code, 75, blocked.stderr);
    assert.match(blocked.stderr, new RegExp(`pid ${process.pid}\\b`));

    const exited = execa(process.execPath, ["-e", ""]);
    const deadPid = exited.pid;
    assert.ok(deadPid !== undefined);
    await exited;
    await writeFile(lockFile, lockOf(deadPid));
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /up to date at build 101/);
    assert.ok(!existsSync(lockFile), "the taken-over lock is released at the end");
  });
});

describe("hail status after a deployment", () => {
  let w: World;
  let app1: string;

  before(async () => {
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => w.close());

  it("status --json: generation, current path, last deployment with its build ids and evals, last attempt, failures, hold", async () => {
    const r = await w.hail(["status", "myapp", "--json", ...w.manageArgs()]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(s.generation, 1);
    assert.equal(s.currentPath, app1);
    const deployed = s.lastDeployed as Record<string, unknown>;
    assert.equal(deployed.storePath, app1);
    assert.equal(deployed.buildId, 101);
    assert.equal(deployed.gateBuildId, 100);
    assert.deepEqual(deployed.evals, [10]);
    assert.match(String(deployed.at), ISO_TIME);
    const attempt = s.lastAttempt as Record<string, unknown>;
    assert.equal(attempt.storePath, app1);
    assert.equal(attempt.buildId, 101);
    assert.equal(attempt.result, "success");
    assert.match(String(attempt.endedAt), ISO_TIME);
    assert.deepEqual(s.failed, []);
    assert.equal(s.hold, null);
  });

  it("status (text) shows the same facts", async () => {
    const r = await w.hail(["status", "--profile", "myapp", ...w.manageArgs()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`generation 1: ${app1}`));
    assert.match(r.stdout, /build 101, gate 100, evals 10/);
    assert.match(r.stdout, /^last attempt: .*: success$/m);
    assert.match(r.stdout, /^hold: +none$/m);
  });

  it("status of a profile with neither a profile link nor state is refused (64), naming the profiles hail knows", async () => {
    const r = await w.hail(["status", "other", "--json", ...w.manageArgs()]);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /profile other is unknown: .*profiles hail knows there: .*\bmyapp\b/);
    assert.equal((JSON.parse(r.stdout) as { error: { exitCode: number } }).error.exitCode, 64, "--json: the failure is a JSON object on stdout");
  });
});

describe("the state key is the profile's absolute path", () => {
  let w: World;
  let app1: string;

  before(async () => {
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
  });
  after(() => w.close());

  it("two --profiles-dir with the same profile name share neither the state file nor the lock", async () => {
    const dirA = path.join(w.lab.root, "pA");
    const dirB = path.join(w.lab.root, "pB");
    await mkdir(dirA);
    await mkdir(dirB);
    const manage = (dir: string) => ["--profiles-dir", dir, "--state-dir", w.stateDir];
    assert.equal((await w.hail(["hold", "app", "--new", ...manage(dirA), "--reason", "only A"])).code, 0);
    const statusA = await w.hail(["status", "app", "--json", ...manage(dirA)]);
    assert.equal((JSON.parse(statusA.stdout) as { hold: { reason: string } | null }).hold?.reason, "only A", statusA.stdout);
    // pB/app has no state of its own: the hold on pA/app did not land there
    const statusB = await w.hail(["status", "app", "--json", ...manage(dirB)]);
    assert.equal(statusB.code, 64, statusB.stderr);
    assert.match(statusB.stderr, new RegExp(`profile app is unknown: no profile link ${path.join(dirB, "app")} and no hail state`));
    const args = (dir: string) => ["--gate-job", w.gateUrl, "--constituent", "myapp", "--profile", "app", ...manage(dir), "--log-format", "json"];
    const daemonA = w.startDaemon([...args(dirA), "--poll-period", "1h"]);
    await daemonA.waitFor(/hail started/, "the daemon on pA/app to take its lock");
    const oneshotB = await w.hail([...args(dirB), "--oneshot"]);
    assert.equal(oneshotB.code, 0, `pB/app is not locked by the daemon on pA/app: ${oneshotB.stderr}`);
    assert.equal(await daemonA.stop("SIGTERM"), 0);
  });

  it("a state file under the old name (the name under --profiles-dir) is taken over with its hold, failure marks and counters", async () => {
    const legacy = path.join(w.stateDir, "legacy.json");
    const at = new Date().toISOString();
    const old = {
      version: 1,
      profile: "legacy",
      profilePath: path.join(w.lab.profilesDir, "legacy"),
      lastDeployed: null,
      lastAttempt: null,
      lastError: null,
      failed: [{ storePath: "/nix/store/1bq3x6jz9mphgkfs8wrsbkvsy1iw4m58-myapp-9", buildId: 9, reason: "activation failed", at }],
      hold: { reason: "kept", since: at, until: null },
      metrics: { upToDate: false, lastCheckAt: null, lastSuccessAt: null, deployments: { success: 7, failed: 3 }, rollbacks: 2, errors: {}, hookFailures: 0 },
    };
    await mkdir(w.stateDir, { recursive: true });
    await writeFile(legacy, JSON.stringify(old));
    const held = await w.hail([...w.gateArgs("legacy"), "--oneshot"]);
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, /held/);
    assert.equal(await w.profileTarget("legacy"), null, "the hold was kept: nothing deployed");
    const released = await w.hail(["release", "legacy", ...w.manageArgs()]);
    assert.equal(released.code, 0, released.stderr);
    assert.ok(!existsSync(legacy), "the old file was moved, not copied");
    const state = await w.readState("legacy");
    assert.equal(state?.hold, null);
    assert.deepEqual(state?.failed.map((f) => f.buildId), [9]);
    assert.deepEqual(state?.metrics.deployments, { success: 7, failed: 3 });
    assert.equal(state?.metrics.rollbacks, 2);
  });

  it("--state-dir '' is a usage error", async () => {
    for (const args of [[...w.gateArgs("myapp"), "--oneshot", "--state-dir", ""], ["hold", "myapp", "--profiles-dir", w.lab.profilesDir, "--state-dir", ""]]) {
      const r = await w.hail(args);
      assert.equal(r.code, 64, r.stderr);
      assert.match(r.stderr, /--state-dir/);
    }
  });
});
