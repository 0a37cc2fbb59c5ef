// Failed deployments end to end (README, "Safety" and "Exit codes"): rollback to the exact generation from
// before the attempt, the activation timeout, the health check, a realise failure, and the
// known-bad marks that keep hail from trying a failed path again.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { createWorld, greenGate, groupMembers, killGroup, loggedActivation, publishedApps, waitUntil, type World } from "./world.js";

/** An activation that logs that it started, then fails with exit 3 while $BAD_MARKER exists. */
const FAILING_WHILE_MARKED = loggedActivation(
  ['echo "attempt $out" >> "$HAIL_TEST_ACTIVATION_LOG"', 'if [ -e "$BAD_MARKER" ]; then echo "refusing to start" >&2; exit 3; fi'].join("\n"),
);

describe("rollback after a failed deployment", () => {
  let w: World;
  let app1: string;
  let bad: string;
  let slow: string;
  let app2: string;
  let marker: string;
  let pidFile: string;

  beforeEach(async () => {
    w = await createWorld();
    [app1, bad, slow, app2] = (await publishedApps(
      w.lab,
      { name: "myapp", version: "1" },
      { name: "myapp", version: "bad", activate: FAILING_WHILE_MARKED },
      // The shell and a child that ignores SIGTERM: only a kill of the whole group, with the
      // SIGKILL after the grace period, ends both.
      { name: "myapp", version: "slow", activate: loggedActivation('echo $$ > "$PIDFILE"; (trap "" TERM; sleep 60) & echo $! >> "$PIDFILE"; sleep 60') },
      { name: "myapp", version: "2" },
    )) as [string, string, string, string];
    marker = path.join(w.lab.root, "bad-marker");
    pidFile = path.join(w.lab.root, "activation.pid");
    await writeFile(marker, "");
  });
  afterEach(async () => {
    // Whatever the slow activation left behind was started by this test's hail.
    const pids = existsSync(pidFile) ? (await readFile(pidFile, "utf8")).split(/\s+/).filter(Boolean).map(Number) : [];
    if (pids[0] !== undefined) await killGroup(pids[0], w.lab.root);
    await w.close();
  });

  const env = () => ({ BAD_MARKER: marker, PIDFILE: pidFile });

  async function deployFirst(): Promise<void> {
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.currentGeneration("myapp"), 1);
  }

  it("a failing activation: exit 1, back at generation 1, its activation ran again, the path marked failed", async () => {
    await deployFirst();
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], env());
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /failed to deploy build 201 .*\(rolled back\)/);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.equal(await w.currentGeneration("myapp"), 1, "the profile link is back at generation 1");
    const activations = await w.activations();
    assert.deepEqual(activations.slice(0, 2), [`activated ${app1} build=101`, `attempt ${bad}`]);
    assert.equal(activations.length, 3, activations.join("\n"));
    assert.match(activations[2] ?? "", new RegExp(`^activated ${app1} build=`), "generation 1 was activated again");
    const state = await w.readState("myapp");
    assert.equal(state?.lastAttempt?.storePath, bad);
    assert.equal(state?.lastAttempt?.result, "failed");
    assert.match(state?.lastAttempt?.error ?? "", /exit 3/);
    assert.deepEqual(state?.failed.map((f) => [f.storePath, f.buildId]), [[bad, 201]]);
    assert.equal(state?.lastDeployed?.storePath, app1, "lastDeployed still names what is in place");
  });

  it("the re-activation after a rollback gets the build id of the generation it returns to (HAIL_BUILD_ID)", async () => {
    await deployFirst();
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], env());
    assert.equal(r.code, 1, r.stderr);
    assert.equal((await w.activations()).at(-1), `activated ${app1} build=101`);
  });

  it("a failing first deployment leaves no profile at all", async () => {
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], env());
    assert.equal(r.code, 1, r.stderr);
    assert.ok(!existsSync(path.join(w.lab.profilesDir, "myapp")), "no profile link");
    assert.ok(!existsSync(path.join(w.lab.profilesDir, "myapp-1-link")), "no generation link");
    assert.deepEqual(await w.activations(), [`attempt ${bad}`]);
    const state = await w.readState("myapp");
    assert.equal(state?.lastAttempt?.result, "failed");
    assert.deepEqual(state?.failed.map((f) => f.storePath), [bad]);
  });

  it("--no-rollback leaves the failed generation in place and still exits 1", async () => {
    await deployFirst();
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--no-rollback"], env());
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stdout, /rolled back/);
    assert.equal(await w.profileTarget("myapp"), bad);
    assert.equal(await w.currentGeneration("myapp"), 2);
    assert.deepEqual(await w.activations(), [`activated ${app1} build=101`, `attempt ${bad}`], "generation 1 was not re-activated");
    assert.equal((await w.readState("myapp"))?.lastAttempt?.result, "failed");
  });

  it("an activation past --activate-timeout is killed with its whole process group, rolled back, exit 1", async () => {
    await deployFirst();
    for (const b of greenGate(200, 20, slow)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--activate-timeout", "2s"], env());
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /timed out after 2s/);
    const [shellPid, stubbornPid] = (await readFile(pidFile, "utf8")).split(/\s+/).filter(Boolean).map(Number);
    assert.ok(shellPid !== undefined && stubbornPid !== undefined, "the activation wrote its pids");
    await waitUntil(async () => (await groupMembers(shellPid)).length === 0, `process group ${shellPid} to be gone`, 30_000);
    assert.ok(!(await groupMembers(shellPid)).includes(stubbornPid), "the child that ignores SIGTERM was killed too");
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.equal(await w.currentGeneration("myapp"), 1);
    const activations = await w.activations();
    assert.equal(activations.length, 2, activations.join("\n"));
    assert.match(activations[1] ?? "", new RegExp(`^activated ${app1} `), "generation 1 was activated again, not the slow one");
    assert.equal((await w.readState("myapp"))?.lastAttempt?.result, "failed");
  });

  it("a failing --health-check (sh -c \"exit 4\") rolls back, exit 1", async () => {
    await deployFirst();
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--health-check", 'sh -c "exit 4"'], env());
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /health check/);
    assert.match(r.stderr, /exit 4/);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.equal(await w.currentGeneration("myapp"), 1);
    const activations = await w.activations();
    assert.deepEqual(activations.slice(0, 2), [`activated ${app1} build=101`, `activated ${app2} build=201`], "the activation itself ran and passed");
    assert.match(activations[2] ?? "", new RegExp(`^activated ${app1} `), "then generation 1 was activated again");
    const state = await w.readState("myapp");
    assert.deepEqual(state?.failed.map((f) => f.storePath), [app2]);
  });

  it("a failing health-check script file rolls back; a passing one deploys, run after activation with HAIL_STORE_PATH", async () => {
    await deployFirst();
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    const seen = path.join(w.lab.root, "health-seen");
    const script = path.join(w.lab.root, "health check.sh");
    await writeFile(script, `#!/bin/sh\necho "$HAIL_STORE_PATH" > '${seen}'\nexit "\${HEALTH_EXIT:-0}"\n`);
    await chmod(script, 0o755);
    const quoted = `'${script}'`;

    const failing = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--health-check", quoted], { ...env(), HEALTH_EXIT: "7" });
    assert.equal(failing.code, 1, failing.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.equal((await readFile(seen, "utf8")).trim(), app2, "the check ran for the new build");

    await rm(seen);
    const cleared = await w.hail(["release", "myapp", "--clear-failed", ...w.manageArgs()]);
    assert.equal(cleared.code, 0, cleared.stderr);
    const passing = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--health-check", quoted], env());
    assert.equal(passing.code, 0, passing.stderr);
    assert.equal((await readFile(seen, "utf8")).trim(), app2);
    assert.equal(await w.profileTarget("myapp"), app2);
    // Nix reuses the newest generation when it already holds the same path (the failed one).
    assert.equal(await w.currentGeneration("myapp"), (await w.generations("myapp")).at(-1));
    assert.equal((await w.readState("myapp"))?.lastDeployed?.storePath, app2);
  });

  it("a path the caches do not have: exit 1, the profile untouched and not re-activated", async () => {
    await deployFirst();
    const missing = await w.lab.buildApp("myapp", "unpublished");
    await w.lab.deleteLocal(missing);
    for (const b of greenGate(200, 20, missing)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], env());
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /nix-store --realise/);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.deepEqual(await w.generations("myapp"), [1]);
    assert.deepEqual(await w.activations(), [`activated ${app1} build=101`]);
    assert.ok(!(await w.nixCalls()).some((c) => c.startsWith("nix-env") && c.includes(missing)), "the profile was never switched");
    assert.equal((await w.readState("myapp"))?.lastAttempt?.result, "failed");
  });
});

describe("known-bad builds are skipped until Hydra offers another path", () => {
  let w: World;
  let app1: string;
  let bad: string;
  let app3: string;
  let marker: string;

  before(async () => {
    w = await createWorld();
    [app1, bad, app3] = (await publishedApps(
      w.lab,
      { name: "myapp", version: "1" },
      { name: "myapp", version: "bad", activate: FAILING_WHILE_MARKED },
      { name: "myapp", version: "3" },
    )) as [string, string, string];
    marker = path.join(w.lab.root, "bad-marker");
    await writeFile(marker, "");
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const first = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(first.code, 0, first.stderr);
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    const failed = await w.hail([...w.gateArgs("myapp"), "--oneshot"], { BAD_MARKER: marker });
    assert.equal(failed.code, 1, failed.stderr);
  });
  after(() => w.close());

  it("the next --oneshot with the same gate runs no nix command and no activation, exits 1, says it skipped", async () => {
    const calls = await w.nixCalls();
    const activations = await w.activations();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], { BAD_MARKER: marker });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`not changed: ${bad} failed to deploy`));
    assert.match(r.stderr, /not deploying/);
    assert.deepEqual(await w.nixCalls(), calls);
    assert.deepEqual(await w.activations(), activations);
    assert.equal(await w.profileTarget("myapp"), app1);
  });

  it("plan --json says skip, with the reason; status --json lists the path under failed", async () => {
    const plan = await w.hail(["plan", ...w.gateArgs("myapp"), "--json"]);
    assert.equal(plan.code, 0, plan.stderr);
    const report = JSON.parse(plan.stdout) as { action: string; reason: string | null; commands: string[] };
    assert.equal(report.action, "skip");
    assert.match(report.reason ?? "", new RegExp(`${bad} failed to deploy`));
    assert.deepEqual(report.commands, []);

    const status = await w.hail(["status", "myapp", "--json", ...w.manageArgs()]);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { failed: { storePath: string; buildId: number; reason: string }[] };
    assert.deepEqual(s.failed.map((f) => [f.storePath, f.buildId]), [[bad, 201]]);
    assert.match(s.failed[0]?.reason ?? "", /exit 3/);
    const text = await w.hail(["status", "myapp", ...w.manageArgs()]);
    assert.match(text.stdout, new RegExp(`known bad[^\\n]*\\n  ${bad} \\(build 201\\)`));
  });

  it("a different path from Hydra is deployed", async () => {
    for (const b of greenGate(300, 30, app3)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app3);
    assert.equal((await w.activations()).at(-1), `activated ${app3} build=301`);
  });

  it("the failed path under a new build id is still skipped; release --clear-failed makes hail try it again", async () => {
    for (const b of greenGate(400, 40, bad)) w.hydra.addBuild(b);
    const skipped = await w.hail([...w.gateArgs("myapp"), "--oneshot"], { BAD_MARKER: marker });
    assert.equal(skipped.code, 1, skipped.stderr);
    assert.equal(await w.profileTarget("myapp"), app3);

    // The operator fixed what made it fail, and clears the mark.
    await rm(marker);
    const release = await w.hail(["release", "myapp", "--clear-failed", ...w.manageArgs()]);
    assert.equal(release.code, 0, release.stderr);
    assert.match(release.stdout, /cleared 1 failure mark/);
    assert.deepEqual((await w.readState("myapp"))?.failed, []);

    const retried = await w.hail([...w.gateArgs("myapp"), "--oneshot"], { BAD_MARKER: marker });
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(await w.profileTarget("myapp"), bad);
    assert.equal((await w.activations()).at(-1), `activated ${bad} build=401`);
  });
});
