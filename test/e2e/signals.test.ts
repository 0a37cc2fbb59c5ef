// Signals against the built CLI, real processes (README "Signals"):
// - SIGUSR1 never opens Node's inspector (an unauthenticated debugger on 127.0.0.1:9229 that
//   evaluates any JavaScript in root hail): not in a one-shot, not in `plan`, not in a daemon
//   that is still starting;
// - SIGHUP, SIGUSR2, SIGQUIT and SIGALRM never end a deployment half done.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HailDaemon } from "../support/cli.js";
import { pathExists } from "../../src/path-exists.js";
import { INSPECTOR_MESSAGE, listeningSocketsOf, signalDelivered, WAITING_ACTIVATION, watchListeners } from "./proc-watch.js";
import { createWorld, greenGate, publishedApps, waitForExit, waitUntil, type World } from "./world.js";


/**
 * Sends SIGUSR1 to `pid` while it waits, and watches its listening sockets from before the
 * signal until it is released: an absence can only be seen over a while, so the watch runs
 * from the signal's delivery (an event) for a number of samples, then until `release()`
 * makes the process go on to its end.
 */
async function usr1WhileWaiting(pid: number, release: () => Promise<void>): Promise<string[]> {
  const baseline = await listeningSocketsOf(pid);
  const watch = watchListeners(pid, baseline);
  process.kill(pid, "SIGUSR1");
  await waitUntil(() => signalDelivered(pid, "SIGUSR1"), "SIGUSR1 to be delivered");
  // Node opens the inspector within milliseconds of the delivery; give it a fair chance to show
  for (let i = 0; i < 25; i++) await new Promise((r) => setTimeout(r, 20));
  await release();
  return watch.stop();
}

describe("SIGUSR1 never opens the inspector", () => {
  let w: World;
  let sigDir: string;
  let app: string;
  let retiring: string;

  before(async () => {
    w = await createWorld();
    sigDir = path.join(w.lab.root, "signals");
    await mkdir(sigDir);
    [app] = (await publishedApps(w.lab, { name: "myapp", version: "1", activate: WAITING_ACTIVATION })) as [string];
    for (const b of greenGate(100, 10, app)) w.hydra.addBuild(b);
    // a service with a bin/deactivate that waits, for a daemon still starting (retiring it)
    retiring = await w.lab.buildApp("oldsvc", "1", { deactivate: 'touch "$SIG_DIR/deactivating"; while [ ! -e "$SIG_DIR/go-deactivate" ]; do sleep 0.05; done' });
    await w.lab.publish(retiring);
  });
  after(() => w.close());

  const env = () => ({ ...w.env, SIG_DIR: sigDir });

  it("a one-shot waiting for its activation ignores it, opens no socket, deploys and exits 0", async () => {
    const hail = w.startDaemon([...w.gateArgs("myapp"), "--oneshot"], env());
    const pid = hail.child.pid as number;
    await waitUntil(() => pathExists(path.join(sigDir, `started-${path.basename(app)}`)), "the activation to start");
    const opened = await usr1WhileWaiting(pid, () => writeFile(path.join(sigDir, `go-${path.basename(app)}`), ""));
    assert.equal(await waitForExit(hail), 0, hail.stderr);
    assert.deepEqual(opened, [], "no listening socket belonged to hail");
    assert.doesNotMatch(hail.stderr, INSPECTOR_MESSAGE);
    assert.equal(await w.profileTarget("myapp"), app);
  });

  it("plan waiting for Hydra's answer ignores it, opens no socket and exits 75 as without it", async () => {
    const held: ServerResponse[] = [];
    const server = createServer((_req: IncomingMessage, res: ServerResponse) => held.push(res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/job/p/main/release_gate`;
    try {
      const plan = HailDaemon.start(["plan", "--gate-job", url, "--constituent", "myapp", "--profile", "planned", ...w.labArgs()], w.env);
      try {
        await waitUntil(() => held.length > 0, "plan's request to Hydra");
        const answer = async () => {
          for (const res of held) res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "no such build" }));
        };
        const opened = await usr1WhileWaiting(plan.child.pid as number, answer);
        assert.equal(await waitForExit(plan), 75, plan.stderr);
        assert.deepEqual(opened, [], "no listening socket belonged to plan");
        assert.doesNotMatch(plan.stderr, INSPECTOR_MESSAGE);
        assert.match(plan.stderr, /nothing deployable yet/);
      } finally {
        if (plan.alive) await plan.stop("SIGKILL");
      }
    } finally {
      server.close();
    }
  });

  it("a daemon still starting (running a removed target's bin/deactivate) opens no socket, then polls and stops on SIGTERM with 0", async () => {
    const configFile = path.join(w.lab.root, "hail.json");
    const writeConfig = (targets: object[]) =>
      writeFile(configFile, JSON.stringify({ profilesDir: w.lab.profilesDir, stateDir: w.stateDir, logFormat: "json", targets }));
    // oldsvc is deployed under this config file, then removed from it
    w.hydra.addBuild({ project: "myproject", jobset: "main", finished: true, buildstatus: 0, jobsetevals: [10], id: 150, job: "oldsvc", outputs: { out: retiring } });
    await writeConfig([{ profile: "oldsvc", jobUri: `${w.hydra.url}/job/myproject/main/oldsvc` }]);
    const first = await w.hail(["--config", configFile, "--oneshot"], { SIG_DIR: sigDir });
    assert.equal(first.code, 0, first.stderr);
    await writeConfig([{ profile: "myapp", gateJob: w.gateUrl, constituent: "myapp" }]);

    const daemon = w.startDaemon(["--config", configFile, "--poll-period", "1h"], env());
    const pid = daemon.child.pid as number;
    await waitUntil(() => pathExists(path.join(sigDir, "deactivating")), "the removed target's bin/deactivate to start");
    const opened = await usr1WhileWaiting(pid, () => writeFile(path.join(sigDir, "go-deactivate"), ""));
    await daemon.waitFor(/hail no longer manages/, "the retirement to finish");
    await daemon.waitFor(/hail started/, "the daemon's loop");
    assert.deepEqual(opened, [], "no listening socket belonged to the daemon");
    assert.doesNotMatch(daemon.stderr, INSPECTOR_MESSAGE);
    assert.equal(await daemon.stop("SIGTERM"), 0, daemon.stderr);
  });
});
