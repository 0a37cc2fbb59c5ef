// Crash safety with real Nix (README, "Safety": Crashes): `kill -9` of hail mid-realise, right after the
// profile switch, and during the activation leaves a valid profile link and a readable state
// file, and the next --oneshot converges.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createWorld, descendantsOf, greenGate, killGroup, killPids, loggedActivation, publishedApps, waitForExit, type World } from "./world.js";

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe("kill -9 of hail at any moment, then the next --oneshot converges", () => {
  let w: World;
  let app1: string;
  let app2: string;
  let app3: string;
  let app4: string;
  let marker: string;
  let activationPidFile: string;
  /** processes the killed hail left behind, ended when the test is over */
  const leftoverGroups: number[] = [];

  before(async () => {
    w = await createWorld();
    marker = path.join(w.lab.root, "slow-once-marker");
    activationPidFile = path.join(w.lab.root, "slow-activation.pid");
    [app1, app2, app3, app4] = (await publishedApps(
      w.lab,
      { name: "myapp", version: "1" },
      { name: "myapp", version: "2" },
      { name: "myapp", version: "3" },
      // Sleeps only the first time (the marker), so the run after the crash finishes quickly.
      {
        name: "myapp",
        version: "4",
        activate: loggedActivation('if [ ! -e "$SLOW_ONCE_MARKER" ]; then touch "$SLOW_ONCE_MARKER"; echo $$ > "$SLOW_PIDFILE"; sleep 30; fi'),
      },
    )) as [string, string, string, string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    for (const pgid of leftoverGroups) await killGroup(pgid, w.lab.root);
    await w.close();
  });

  const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...w.env, SLOW_ONCE_MARKER: marker, SLOW_PIDFILE: activationPidFile, ...extra });

  /** Starts `hail --oneshot` in the background, waits for `moment`, then SIGKILLs it by pid. */
  async function killDuring(extraEnv: NodeJS.ProcessEnv, moment: () => Promise<boolean>, what: string, opts: { keepChildren: boolean }) {
    const hail = w.startDaemon([...w.gateArgs("myapp"), "--oneshot"], env(extraEnv));
    await hail.waitFor(moment, what);
    const pid = hail.child.pid;
    assert.ok(pid !== undefined);
    const children = await descendantsOf(pid);
    process.kill(pid, "SIGKILL");
    await hail.child;
    assert.equal(hail.child.signalCode, "SIGKILL", "hail was killed, it did not finish");
    // The spy's slow wrappers would otherwise run their nix command after the test is over.
    if (!opts.keepChildren) {
      const grandchildren = (await Promise.all(children.map((c) => descendantsOf(c)))).flat();
      await killPids([...children, ...grandchildren], w.lab.root);
    }
  }

  /** Old or new generation, never a broken link; a state file that parses. */
  async function assertConsistent(oldPath: string, newPath: string) {
    const target = await w.profileTarget("myapp");
    assert.ok(target === oldPath || target === newPath, `profile at ${target}, expected ${oldPath} or ${newPath}`);
    assert.ok((await stat(path.join(w.lab.profilesDir, "myapp"))).isDirectory(), "the profile link resolves to an existing store path");
    const text = await readFile(w.stateFile("myapp"), "utf8");
    const state = JSON.parse(text) as { version: number; lastAttempt: { storePath: string; endedAt: string | null } | null };
    assert.equal(state.version, 1);
    assert.equal(state.lastAttempt?.storePath, newPath);
    assert.equal(state.lastAttempt?.endedAt, null, "the state file says the attempt never ended");
    return target;
  }

  async function assertConverged(newPath: string, buildId: number) {
    assert.equal(await w.profileTarget("myapp"), newPath);
    const state = await w.readState("myapp");
    assert.equal(state?.lastDeployed?.storePath, newPath);
    assert.equal(state?.lastDeployed?.buildId, buildId);
    assert.equal(state?.lastAttempt?.result, "success");
    assert.match(state?.lastAttempt?.endedAt ?? "", ISO_TIME);
  }

  it("killed while the path is being realised: still at v1; the next run re-activates v1, then deploys v2", async () => {
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    await killDuring(
      // Every nix-store call waits 10s first (a dry run comes before the real realise).
      { HAIL_TEST_SLOW_BEFORE_NIX_STORE: "10" },
      async () => (await w.nixCalls()).includes(`nix-store --realise ${app2} --max-jobs 0`),
      "nix-store --realise to start",
      { keepChildren: false },
    );
    assert.equal(await assertConsistent(app1, app2), app1);
    assert.deepEqual(await w.generations("myapp"), [1]);
    const activations = await w.activations();

    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], env());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await w.activations()).slice(activations.length), [`activated ${app1} build=101`, `activated ${app2} build=201`]);
    await assertConverged(app2, 201);
    assert.deepEqual(await w.generations("myapp"), [1, 2]);
  });

  it("killed right after the profile switch: at v3, not yet activated; the next run activates v3 and records it", async () => {
    for (const b of greenGate(300, 30, app3)) w.hydra.addBuild(b);
    await killDuring(
      { HAIL_TEST_SLOW_AFTER_NIX_ENV: "10" },
      async () => (await w.profileTarget("myapp")) === app3,
      "the profile to point at v3",
      { keepChildren: false },
    );
    assert.equal(await assertConsistent(app2, app3), app3);
    const activations = await w.activations();
    assert.ok(!activations.some((l) => l.includes(app3)), "v3 was not activated before the kill");

    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], env());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await w.activations()).slice(activations.length), [`activated ${app3} build=301`]);
    await assertConverged(app3, 301);
    assert.deepEqual(await w.generations("myapp"), [1, 2, 3]);
  });

  it("killed during a slow activation: at v4; the next run activates v4 again and records it", async () => {
    for (const b of greenGate(400, 40, app4)) w.hydra.addBuild(b);
    await killDuring(
      {},
      async () => existsSync(activationPidFile) && (await readFile(activationPidFile, "utf8")).trim() !== "",
      "the slow activation to start",
      // The activation is in its own process group and survives hail, as it would in production.
      { keepChildren: true },
    );
    const leftover = Number((await readFile(activationPidFile, "utf8")).trim());
    leftoverGroups.push(leftover);
    assert.equal(await assertConsistent(app3, app4), app4);
    const activations = await w.activations();
    assert.ok(!activations.some((l) => l.includes(app4)), "v4's activation did not finish before the kill");

    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], env());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await w.activations()).slice(activations.length), [`activated ${app4} build=401`]);
    await assertConverged(app4, 401);
    await killGroup(leftover, w.lab.root);
  });

  it("a converged profile stays quiet: the next run does nothing", async () => {
    const calls = await w.nixCalls();
    const activations = await w.activations();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /up to date at build 401/);
    assert.deepEqual(await w.nixCalls(), calls);
    assert.deepEqual(await w.activations(), activations);
  });
});

describe("SIGTERM to the daemon during an activation", () => {
  let w: World;
  let app1: string;
  let app2: string;
  let go: string;

  before(async () => {
    w = await createWorld();
    go = path.join(w.lab.root, "go");
    [app1, app2] = (await publishedApps(
      w.lab,
      { name: "myapp", version: "1" },
      // Waits (at most a minute) for the test to say go, so SIGTERM surely lands mid-activation.
      {
        name: "myapp",
        version: "2",
        activate: loggedActivation(
          'echo "starting $out" >> "$HAIL_TEST_ACTIVATION_LOG"; i=0; while [ ! -e "$GO_FILE" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
        ),
      },
    )) as [string, string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => w.close());

  it("waits for the activation to finish, records the deployment, exits 0", async () => {
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h"], { ...w.env, GO_FILE: go });
    await daemon.waitFor(async () => (await w.activations()).includes(`starting ${app2}`), "v2's activation to start");
    const pid = daemon.child.pid;
    assert.ok(pid !== undefined);
    process.kill(pid, "SIGTERM");
    await daemon.waitFor(/received SIGTERM/, "the daemon to take the signal");
    assert.ok(daemon.alive, "the daemon waits for the running activation");
    await writeFile(go, "");

    assert.equal(await waitForExit(daemon), 0, daemon.stderr);
    assert.equal((await w.activations()).at(-1), `activated ${app2} build=201`);
    assert.equal(await w.profileTarget("myapp"), app2);
    const state = await w.readState("myapp");
    assert.equal(state?.lastDeployed?.storePath, app2);
    assert.equal(state?.lastDeployed?.buildId, 201);
    assert.equal(state?.lastAttempt?.result, "success");
    assert.match(state?.lastAttempt?.endedAt ?? "", ISO_TIME);
    assert.ok(!existsSync(w.stateFile("myapp").replace(/\.json$/, ".lock")), "the lock was released");
  });
});
