// Failure paths that must still be recorded: a rollback that fails, a profile that was a plain
// link, a binary cache that cannot be reached, and the state file's permissions.
import assert from "node:assert/strict";
import { lstat, readlink, rm, stat, symlink } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { execa } from "execa";
import { createWorld, greenGate, publishedApps, waitUntil, type World } from "./world.js";

const FAILING_ACTIVATION = 'echo "activation of $out is failing"\nexit 3';

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
    w = await createWorld();
    [app1] = (await publishedApps(w.lab, { name: "myapp", version: "1" })) as [string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
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
    await waitUntil(async () => ((await w.readState("myapp"))?.failed.length ?? 0) === 1, "the failure mark");
  });
});
