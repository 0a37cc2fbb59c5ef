// Hydra's latest-finished moves back while a build of the newest evaluation is restarted;
// hail never follows it back (unless --allow-downgrade), with the built CLI and real Nix.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { greenGate, waitUntil, worldWithApps, type World } from "./world.js";

const WARN = '"logLevelName":"WARN"';

function warnings(stderr: string, pattern: RegExp): string[] {
  return stderr.split("\n").filter((l) => l.includes(WARN) && pattern.test(l));
}

async function upToDate(file: string): Promise<string | undefined> {
  const text = await readFile(file, "utf8");
  return /^hail_up_to_date\{profile="[^"]+"\} (\S+)$/m.exec(text)?.[1];
}

describe("never backwards: --oneshot and plan, with real Nix", () => {
  let w: World;
  let app1: string;
  let app2: string;
  let metrics: string;

  before(async () => {
    ({ world: w, apps: [app1, app2] } = await worldWithApps("1", "2"));
    metrics = path.join(w.lab.root, "oneshot.prom");
    for (const b of [...greenGate(100, 10, app1), ...greenGate(200, 20, app2)]) w.hydra.addBuild(b);
  });
  after(() => w.close());

  const oneshot = (...extra: string[]) => w.hail([...w.gateArgs("myapp"), "--oneshot", "--metrics-file", metrics, ...extra]);

  it("deploys the newest gate build", async () => {
    const r = await oneshot();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app2);
    assert.equal(await upToDate(metrics), "1");
  });

  it("a restarted build moves latest-finished back to gate 100: exit 0, profile stays, one warning naming both ids", async () => {
    w.hydra.restartBuild(202);
    const r = await oneshot();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /myapp not changed: Hydra offers gate build 100, older than gate build 200/);
    assert.equal(await w.profileTarget("myapp"), app2, "the profile did not go back");
    assert.deepEqual(await w.generations("myapp"), [1]);
    assert.equal(warnings(r.stderr, /gate build 100.*gate build 200/).length, 1, r.stderr);
    assert.equal(await upToDate(metrics), "1", "hail_up_to_date keeps its value");
    assert.deepEqual(await w.activations(), [`activated ${app2} build=201`]);
  });

  it("plan says stay (older than deployed), in text and JSON, exit 0 with --detailed-exitcode", async () => {
    const text = await w.hail(["plan", ...w.gateArgs("myapp"), "--detailed-exitcode"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^action: +stay \(older than deployed\): Hydra offers gate build 100/m);
    const json = await w.hail(["plan", ...w.gateArgs("myapp"), "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const plan = JSON.parse(json.stdout) as { action: string; gateBuildId: number; commands: string[] };
    assert.deepEqual([plan.action, plan.gateBuildId, plan.commands], ["stay", 100, []]);
  });

  it("once the restarted build finishes, gate 200 is the answer again and nothing runs", async () => {
    w.hydra.finishBuild(202);
    const r = await oneshot();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /up to date at build 201/);
    assert.deepEqual(await w.generations("myapp"), [1]);
    assert.deepEqual(await w.activations(), [`activated ${app2} build=201`]);
  });

  it("--allow-downgrade follows Hydra back to gate 100", async () => {
    w.hydra.restartBuild(202);
    const r = await oneshot("--allow-downgrade");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.deepEqual(await w.generations("myapp"), [1, 2]);
    assert.equal(warnings(r.stderr, /older than/).length, 0, r.stderr);
  });

  it("the config key allowDowngrade is the same switch", async () => {
    w.hydra.finishBuild(202);
    assert.equal((await oneshot()).code, 0);
    assert.equal(await w.profileTarget("myapp"), app2, "gate 200 is newer: deployed");
    w.hydra.restartBuild(202);
    const config = path.join(w.lab.root, "hail.json");
    const target = { profile: "myapp", gateJob: w.gateUrl, constituent: "myapp" };
    const dirs = { profilesDir: w.lab.profilesDir, stateDir: w.stateDir, logFormat: "json", oneshot: true };
    await writeFile(config, JSON.stringify({ ...dirs, targets: [target] }));
    const stays = await w.hail(["--config", config]);
    assert.equal(stays.code, 0, stays.stderr);
    assert.equal(await w.profileTarget("myapp"), app2, "without the key: stays");
    await writeFile(config, JSON.stringify({ ...dirs, allowDowngrade: true, targets: [target] }));
    const follows = await w.hail(["--config", config]);
    assert.equal(follows.code, 0, follows.stderr);
    assert.equal(await w.profileTarget("myapp"), app1, "with allowDowngrade: follows Hydra back");
  });
});

describe("never backwards: the daemon, with real Nix", () => {
  let w: World;
  let apps: string[];

  before(async () => {
    ({ world: w, apps } = await worldWithApps("1", "2", "3"));
  });
  after(() => w.close());

  it("does not flap while a build of the newest eval is restarted, and is at the newest when it finishes", async () => {
    const [app1, app2, app3] = apps as [string, string, string];
    for (const b of [...greenGate(100, 10, app1), ...greenGate(200, 20, app2)]) w.hydra.addBuild(b);
    const metrics = path.join(w.lab.root, "daemon.prom");
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1s", "--metrics-file", metrics]);
    await waitUntil(async () => (await w.profileTarget("myapp")) === app2, "gate 200 deployed");
    // A newer evaluation arrives, is deployed, and then one of its builds is restarted.
    for (const b of greenGate(300, 30, app3)) w.hydra.addBuild(b);
    await waitUntil(async () => (await w.profileTarget("myapp")) === app3, "gate 300 deployed");
    w.hydra.restartBuild(302);
    const polls = () => w.hydra.requests.filter((q) => q.path.endsWith("/latest-finished")).length;
    await daemon.waitFor(/Hydra offers gate build 200, older than gate build 300/, "the warning about gate 200");
    const seen = polls();
    await daemon.waitFor(() => polls() >= seen + 3, "three more polls answered with gate 200");
    assert.equal(await w.profileTarget("myapp"), app3, "the profile never went back");
    assert.deepEqual(await w.generations("myapp"), [1, 2]);
    assert.equal(warnings(daemon.stderr, /older than gate build 300/).length, 1, "one warning for the offered id, not one per poll");
    assert.equal(await upToDate(metrics), "1");
    w.hydra.finishBuild(302);
    w.hydra.resetRequests();
    await daemon.waitFor(() => w.hydra.requests.filter((q) => q.path.endsWith("/latest-finished")).length >= 2, "polls after the build finished");
    assert.equal(await w.profileTarget("myapp"), app3);
    assert.deepEqual(await w.generations("myapp"), [1, 2], "no flapping: still two generations");
    assert.deepEqual(await w.activations(), [`activated ${app2} build=201`, `activated ${app3} build=301`]);
    assert.equal(await daemon.stop(), 0);
  });
});

describe("never backwards: --job-uri compares the job's own build ids, with real Nix", () => {
  let w: World;
  let app1: string;
  let app2: string;

  before(async () => {
    ({ world: w, apps: [app1, app2] } = await worldWithApps("1", "2"));
    const base = { project: "myproject", jobset: "main", job: "myapp", finished: true, buildstatus: 0 };
    w.hydra.addBuild({ ...base, id: 101, jobsetevals: [10], outputs: { out: app1 } });
    w.hydra.addBuild({ ...base, id: 201, jobsetevals: [20], outputs: { out: app2 } });
  });
  after(() => w.close());

  const oneshot = () => w.hail(["--job-uri", `${w.hydra.url}/job/myproject/main/myapp`, "--profile", "plain", ...w.labArgs(), "--oneshot"]);

  it("stays at build 201 while a restart makes `latest` answer build 101, then is up to date when it finishes", async () => {
    assert.equal((await oneshot()).code, 0);
    assert.equal(await w.profileTarget("plain"), app2);
    w.hydra.restartBuild(201);
    const stays = await oneshot();
    assert.equal(stays.code, 0, stays.stderr);
    assert.equal(warnings(stays.stderr, /Hydra offers build 101, older than build 201/).length, 1, stays.stderr);
    assert.equal(await w.profileTarget("plain"), app2);
    w.hydra.finishBuild(201);
    const current = await oneshot();
    assert.equal(current.code, 0, current.stderr);
    assert.match(current.stdout, /up to date at build 201/);
    assert.deepEqual(await w.generations("plain"), [1]);
  });
});
