// Signals during a deployment, built CLI and real Nix (README "Signals"): SIGHUP, SIGUSR2,
// SIGALRM and SIGQUIT never leave a deployment half done, and a hail stopped (SIGSTOP) past the
// activation deadline does not call an activation that exited 0 failed.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { pathExists } from "../../src/path-exists.js";
import { processState, signalDelivered, WAITING_ACTIVATION } from "./proc-watch.js";
import { createWorld, greenGate, publishedApps, waitForExit, waitUntil, type World } from "./world.js";
import type { HailDaemon } from "../support/cli.js";

/** A world whose apps all activate with WAITING_ACTIVATION, and the dir it waits in. */
async function waitingWorld(versions: string[]): Promise<{ w: World; apps: string[]; sigDir: string; env: NodeJS.ProcessEnv }> {
  const w = await createWorld();
  const sigDir = path.join(w.lab.root, "signals");
  await mkdir(sigDir);
  const apps = await publishedApps(w.lab, ...versions.map((version) => ({ name: "myapp", version, activate: WAITING_ACTIVATION })));
  return { w, apps, sigDir, env: { ...w.env, SIG_DIR: sigDir } };
}

const startedFile = (sigDir: string, app: string) => path.join(sigDir, `started-${path.basename(app)}`);
const release = (sigDir: string, app: string) => writeFile(path.join(sigDir, `go-${path.basename(app)}`), "");

describe("SIGHUP, SIGUSR2, SIGALRM and SIGQUIT in the middle of an activation", () => {
  let w: World;
  let apps: string[];
  let sigDir: string;
  let env: NodeJS.ProcessEnv;
  let gate = 0;

  before(async () => {
    ({ w, apps, sigDir, env } = await waitingWorld(["1", "2", "3", "4", "5", "6"]));
  });
  after(() => w.close());

  /** Offers `app` as the next gate build, waits for its activation, sends `signal` there and lets it finish. */
  async function signalDuring(hail: HailDaemon, app: string, signal: NodeJS.Signals): Promise<void> {
    gate += 100;
    for (const b of greenGate(gate, gate / 10, app)) w.hydra.addBuild(b);
    await hail.waitFor(() => pathExists(startedFile(sigDir, app)), `the activation of ${app}`);
    const pid = hail.child.pid as number;
    process.kill(pid, signal);
    await hail.waitFor(() => signalDelivered(pid, signal), `${signal} to be delivered`);
    await hail.waitFor(new RegExp(`received ${signal}`), `hail to log ${signal}`);
    await release(sigDir, app);
  }

  /** The deployment of `app` ran to its end and is recorded: profile, state file, no failure mark. */
  async function assertDeployed(app: string): Promise<void> {
    assert.equal(await w.profileTarget("myapp"), app);
    const state = await w.readState("myapp");
    assert.equal(state?.lastAttempt?.storePath, app);
    assert.equal(state?.lastAttempt?.result, "success");
    assert.equal(state?.lastDeployed?.storePath, app);
    assert.deepEqual(state?.failed, []);
    assert.equal(state?.activation, null, "no activation left recorded as running");
    assert.ok((await w.activations()).some((l) => l.startsWith(`activated ${app} `)), "the activation ran to its end");
  }

  for (const [i, signal] of [[0, "SIGHUP"], [1, "SIGQUIT"]] as const) {
    it(`a one-shot that gets ${signal} finishes its deployment, records it and exits 0`, async () => {
      const app = apps[i] as string;
      const hail = w.startDaemon([...w.gateArgs("myapp"), "--oneshot"], env);
      await signalDuring(hail, app, signal);
      assert.equal(await waitForExit(hail), 0, hail.stderr);
      await assertDeployed(app);
    });
  }

  it("a daemon that gets SIGHUP, SIGUSR2 and SIGALRM finishes each deployment and carries on; SIGQUIT: it finishes, records and exits 0", async () => {
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "500ms"], env);
    await daemon.waitFor(/hail started/, "the daemon to start");
    for (const [i, signal] of [[2, "SIGHUP"], [3, "SIGUSR2"], [4, "SIGALRM"]] as const) {
      const app = apps[i] as string;
      await signalDuring(daemon, app, signal);
      await daemon.waitFor(async () => (await w.readState("myapp"))?.lastDeployed?.storePath === app, `the deployment of ${app} to be recorded`);
      await assertDeployed(app);
      assert.ok(daemon.alive, `${signal} did not stop the daemon`);
    }
    assert.match(daemon.stderr, /received SIGHUP: hail reads its configuration only when it starts; restart it to apply changes/);
    const app = apps[5] as string;
    await signalDuring(daemon, app, "SIGQUIT");
    assert.equal(await waitForExit(daemon), 0, daemon.stderr);
    assert.match(daemon.stderr, /received SIGQUIT: stopping after the running step/);
    await assertDeployed(app);
  });
});

describe("hail stopped (SIGSTOP) past the activation deadline, continued after its activation exited 0", () => {
  let w: World;
  let apps: string[];
  let sigDir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    ({ w, apps, sigDir, env } = await waitingWorld(["1", "2"]));
    for (const b of greenGate(100, 10, apps[0] as string)) w.hydra.addBuild(b);
    await release(sigDir, apps[0] as string);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"], { SIG_DIR: sigDir });
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => w.close());

  it("is a success: exit 0, no rollback, no failure mark", async () => {
    const [app1, app2] = apps as [string, string];
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    const timeoutMs = 2_000;
    const hail = w.startDaemon([...w.gateArgs("myapp"), "--oneshot", "--activate-timeout", `${timeoutMs / 1000}s`], env);
    const pid = hail.child.pid as number;
    await waitUntil(() => pathExists(startedFile(sigDir, app2)), "the activation to start");
    // hail started the activation before this moment, so its deadline is before this plus the timeout
    const deadline = Date.now() + timeoutMs;
    const leader = Number((await readFile(startedFile(sigDir, app2), "utf8")).trim());
    process.kill(pid, "SIGSTOP");
    await waitUntil(async () => (await processState(pid)) === "T", "hail to be stopped");
    await release(sigDir, app2);
    // the activation has exited (a zombie: hail, its parent, is stopped and cannot reap it)
    await waitUntil(async () => (await processState(leader)) === "Z", "the activation to exit");
    await waitUntil(() => Date.now() > deadline + 500, "the activation deadline to pass");
    process.kill(pid, "SIGCONT");
    assert.equal(await waitForExit(hail), 0, hail.stderr);
    assert.doesNotMatch(hail.stderr, /timed out/);
    assert.equal(await w.profileTarget("myapp"), app2, "not rolled back");
    const state = await w.readState("myapp");
    assert.equal(state?.lastAttempt?.result, "success");
    assert.deepEqual(state?.failed, [], "no failure mark");
    const activations = await w.activations();
    assert.deepEqual(activations.slice(-1), [`activated ${app2} build=201`], `no re-activation of ${app1}: ${activations.join("\n")}`);
  });
});
