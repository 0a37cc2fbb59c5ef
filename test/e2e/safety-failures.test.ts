// Failure paths that must still be recorded: a rollback that fails, a profile that was a plain
// link, a binary cache that cannot be reached, and the state file's permissions.
import assert from "node:assert/strict";
import { lstat, mkdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { execa } from "execa";
import { FAILING_ACTIVATION, createWorld, greenGate, publishedApps, waitUntil, worldAtGreenGate, type World } from "./world.js";

describe("failure paths are recorded", () => {
  let w: World;
  let app1: string;
  let bad: string;

  beforeEach(async () => {
    w = await createWorld();
    [app1, bad] = (await publishedApps(w.lab, { name: "myapp", version: "1" }, { name: "myapp", version: "bad", activate: FAILING_ACTIVATION })) as [string, string];
  });
  afterEach(() => w.close());

  async function deployFirst(): Promise<void> {
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
  }

  it("a rollback that cannot switch back: exit 1, the attempt closed with both errors, status names where the profile is", async () => {
    await deployFirst();
    await rm(path.join(w.lab.profilesDir, "myapp-1-link"));
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /unexpected error/);
    assert.equal(r.stdout.trim().split("\n").length, 1, r.stdout);
    assert.match(r.stdout, /rollback failed/);
    const state = await w.readState("myapp");
    assert.notEqual(state?.lastAttempt?.endedAt, null, "the attempt is closed");
    assert.equal(state?.lastAttempt?.result, "failed");
    assert.match(state?.lastAttempt?.error ?? "", /exit 3/, "the activation's error");
    assert.match(state?.lastAttempt?.error ?? "", /rollback failed: re-activating .* failed/s, "the rollback's error");
    assert.deepEqual(state?.failed.map((f) => f.storePath), [bad]);
    const status = await w.hail(["status", "myapp", ...w.manageArgs()]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /rollback failed/);
    assert.ok(status.stdout.includes(`the profile is at ${bad}`), status.stdout);

    // A daemon starting now: no "finishing it" re-run, no retry, unhealthy, not up to date.
    const metricsFile = path.join(w.lab.root, "metrics.prom");
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1s", "--metrics-listen", "127.0.0.1:0", "--metrics-file", metricsFile]);
    await daemon.waitFor(/"msg":"not deploying: [^"]*failed to deploy/, "a pass that skips the failed path");
    const started = daemon.logLines().find((l) => String(l.msg).startsWith("hail started"));
    const health = await fetch(`${String(started?.metricsUrl)}/healthz`);
    assert.equal(health.status, 503);
    const metrics = await (await fetch(`${String(started?.metricsUrl)}/metrics`)).text();
    assert.match(metrics, /^hail_up_to_date\{profile="myapp"\} 0$/m);
    await daemon.waitFor(/"msg":"not deploying: [^"]*failed to deploy[\s\S]*"msg":"not deploying: [^"]*failed to deploy/, "a second pass");
    assert.ok(daemon.alive, "the daemon keeps running");
    const sets = (await w.nixCalls()).filter((c) => c.includes("--set"));
    assert.equal(sets.length, 2, "v1 and the bad build were each switched to once, never again");
  });

  it("a profile that was a plain link to a store path is put back exactly, never deleted", async () => {
    const profile = path.join(w.lab.profilesDir, "myapp");
    // a working profile made by another tool: app1 realised, and a plain link to it
    await execa("nix-store", ["--realise", app1], { env: w.labEnv, extendEnv: false });
    await symlink(app1, profile);
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok((await lstat(profile)).isSymbolicLink(), "the profile still exists");
    assert.equal(await readlink(profile), app1, "the same link target as before");
  });

  it("state files are written with mode 0600", async () => {
    await deployFirst();
    assert.equal((await stat(w.stateFile("myapp"))).mode & 0o777, 0o600);
  });
});

describe("a binary cache that cannot be reached is not a failed build", () => {
  let w: World;
  let app1: string;
  let server: http.Server | null = null;

  beforeEach(async () => {
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
  });
  afterEach(async () => {
    if (server) await new Promise((r) => server?.close(r));
    server = null;
    await w.close();
  });

  /** The lab's Nix settings with the substituter replaced by `url`. */
  function cacheEnv(url: string): NodeJS.ProcessEnv {
    const config = String(w.env.NIX_CONFIG).replace(/^substituters = .*$/m, `substituters = ${url}`);
    return { NIX_CONFIG: config };
  }

  async function assertTransient(env: NodeJS.ProcessEnv): Promise<void> {
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], env);
    assert.equal(r.code, 69, r.stderr);
    assert.equal(r.stdout.trim().split("\n").length, 1, `one result line: ${r.stdout}`);
    const state = await w.readState("myapp");
    assert.deepEqual(state?.failed, [], "no failure mark");
    assert.equal(state?.lastError?.kind, "unavailable");
    assert.notEqual(state?.lastAttempt?.endedAt ?? null, null, "the attempt is closed");
    // The cache is back: the same build deploys.
    const again = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
  }

  it("connection refused: exit 69, kind unavailable, no failure mark, deployed once the cache is back", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await assertTransient(cacheEnv(`http://127.0.0.1:${port}`));
  });

  it("HTTP 500 from the cache: the same", async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(500);
      res.end("boom");
    });
    await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
    await assertTransient(cacheEnv(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });

  it("a path the cache does not have is still a failed build", async () => {
    await w.lab.deleteLocal();
    await rm(path.join(w.lab.cacheDir, `${path.basename(app1).slice(0, 32)}.narinfo`));
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^failed to deploy build 101 /);
    assert.equal(r.stdout.trim().split("\n").length, 1, `one result line: ${r.stdout}`);
    await waitUntil(async () => ((await w.readState("myapp"))?.failed.length ?? 0) === 1, "the failure mark");
  });
});

describe("smaller contract points", () => {
  let w: World;
  let apps: string[];

  beforeEach(async () => {
    w = await createWorld();
    apps = await publishedApps(w.lab, { name: "myapp", version: "1" }, { name: "myapp", version: "2" }, { name: "myapp", version: "3" });
  });
  afterEach(() => w.close());

  it("unknown keys in a version-1 state file are kept", async () => {
    await mkdir(w.stateDir, { recursive: true });
    await writeFile(w.stateFile("myapp"), JSON.stringify({ version: 1, profile: "myapp", profilePath: path.join(w.lab.profilesDir, "myapp"), lastDeployed: null, lastAttempt: null, lastError: null, failed: [], hold: null, fromANewerHail: { keep: "me" } }));
    for (const b of greenGate(100, 10, apps[0]!)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    const state = (await w.readState("myapp")) as unknown as Record<string, unknown>;
    assert.deepEqual(state.fromANewerHail, { keep: "me" });
  });

  it("plan --detailed-exitcode exits 2 while a staged rollout holds back a pending deployment", async () => {
    for (const b of greenGate(100, 10, apps[0]!)) w.hydra.addBuild(b);
    w.hydra.updateBuild(100, { stoptime: Math.floor(Date.now() / 1000) });
    // a window of a year: this host's turn is (almost surely) not now; the plan must say "wait"
    let key = 0;
    let plan = await w.hail(["plan", ...w.gateArgs("myapp"), "--json", "--detailed-exitcode", "--rollout-window", "365d", "--rollout-key", `k${key}`]);
    while ((JSON.parse(plan.stdout) as { action: string }).action !== "wait" && key < 20) {
      key++;
      plan = await w.hail(["plan", ...w.gateArgs("myapp"), "--json", "--detailed-exitcode", "--rollout-window", "365d", "--rollout-key", `k${key}`]);
    }
    assert.equal((JSON.parse(plan.stdout) as { action: string }).action, "wait");
    assert.equal(plan.code, 2, plan.stderr);
  });

  it("hooks and --keep-generations run after a deployment finished by the next run (converged)", async () => {
    const [app1, app2, app3] = apps as [string, string, string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    assert.equal((await w.hail([...w.gateArgs("myapp"), "--oneshot"])).code, 0);
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    assert.equal((await w.hail([...w.gateArgs("myapp"), "--oneshot"])).code, 0);
    // A run that died right after switching to app3 (gate 300): the switch done, the attempt open.
    for (const b of greenGate(300, 30, app3)) w.hydra.addBuild(b);
    const profile = path.join(w.lab.profilesDir, "myapp");
    await execa("nix-store", ["--realise", app3], { env: w.labEnv, extendEnv: false });
    await execa("nix-env", ["--profile", profile, "--set", app3], { env: w.labEnv, extendEnv: false });
    const state = (await w.readState("myapp"))!;
    const startedAt = new Date().toISOString();
    const attempt = { storePath: app3, buildId: 301, gateBuildId: 300, evals: [30], job: "myapp", stoptime: null, source: state.lastDeployed?.source ?? "", startedAt, endedAt: null, result: null, error: null, previousGeneration: 2 };
    await writeFile(w.stateFile("myapp"), JSON.stringify({ ...state, lastAttempt: attempt }));
    const hookLog = path.join(w.lab.root, "hook.log");
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--keep-generations", "1", "--on-success", `/bin/sh -c 'echo "$HAIL_RESULT $HAIL_STORE_PATH" >> ${hookLog}'`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /finishing it/);
    assert.deepEqual((await readFile(hookLog, "utf8")).trim().split("\n"), [`success ${app3}`], "the on-success hook ran once");
    assert.deepEqual(await w.generations("myapp"), [2, 3], "generation 1 deleted; the rollback target 2 and the current 3 kept");
  });

  it("status --json prints a JSON error object when it fails", async () => {
    await mkdir(w.stateDir, { recursive: true });
    await writeFile(w.stateFile("myapp"), "{ not json");
    const r = await w.hail(["status", "myapp", "--json", ...w.manageArgs()]);
    assert.equal(r.code, 64, r.stderr);
    const out = JSON.parse(r.stdout) as { error: { kind: string; message: string; exitCode: number } };
    assert.equal(out.error.kind, "usage");
    assert.equal(out.error.exitCode, 64);
    assert.ok(out.error.message.includes(w.stateFile("myapp")), out.error.message);
  });
});
