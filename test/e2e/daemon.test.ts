// The daemon end to end: it waits through "nothing yet", deploys a build that appears while it
// runs, idles on one request per poll, survives a Hydra outage, and stops cleanly.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createWorld, greenGate, publishedApps, type World } from "./world.js";

describe("hail daemon with real Nix", () => {
  let w: World;
  let app1: string;
  let app2: string;

  before(async () => {
    w = await createWorld();
    [app1, app2] = (await publishedApps(w.lab, { name: "myapp", version: "1" }, { name: "myapp", version: "2" })) as [string, string];
  });
  after(() => w.close());

  const latestFinishedRequests = () => w.hydra.requests.filter((q) => q.path.endsWith("/latest-finished")).length;

  it("deploys a gate build that appears while it runs, idles cheaply, survives an outage", async () => {
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1s", "--log-level", "debug"]);
    await daemon.waitFor(/nothing deployable yet/, "the first poll to find nothing");
    assert.equal(await w.profileTarget("myapp"), null);

    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    await daemon.waitFor(async () => (await w.activations()).length === 1, "the first deployment");
    assert.deepEqual(await w.activations(), [`activated ${app1} build=101`]);
    assert.deepEqual(await w.generations("myapp"), [1]);

    // Idle: every pass is exactly one request (the redirect), and no nix command runs.
    const nixCallsAfterDeploy = (await w.nixCalls()).length;
    w.hydra.resetRequests();
    await daemon.waitFor(() => latestFinishedRequests() >= 3, "three idle polls");
    assert.deepEqual(
      w.hydra.requests.filter((q) => !q.path.endsWith("/latest-finished")).map((q) => q.path),
      [],
      "idle passes request nothing but latest-finished",
    );
    assert.equal((await w.nixCalls()).length, nixCallsAfterDeploy, "idle passes start no nix command");

    // Outage: errors are logged, the daemon keeps running.
    w.hydra.override(/.*/, { status: 503, body: "Service Unavailable" });
    const errorsBefore = daemon.logLines().filter((l) => l.errorKind === "unavailable").length;
    await daemon.waitFor(
      () => daemon.logLines().filter((l) => l.errorKind === "unavailable").length >= errorsBefore + 2,
      "two failed polls during the outage",
    );
    assert.ok(daemon.alive, "the daemon survives a Hydra outage");

    // Back up, with a newer gate build: it is deployed.
    w.hydra.clearOverrides();
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    await daemon.waitFor(async () => (await w.activations()).length === 2, "the second deployment");
    assert.deepEqual(await w.activations(), [`activated ${app1} build=101`, `activated ${app2} build=201`]);
    assert.deepEqual(await w.generations("myapp"), [1, 2]);

    assert.equal(await daemon.stop("SIGTERM"), 0, "SIGTERM stops the daemon with exit 0");
    assert.match(daemon.stderr, /received SIGTERM/);
  });

  it("a daemon that starts on an existing profile activates it once, as the original hail did", async () => {
    const before = (await w.activations()).length;
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h"]);
    await daemon.waitFor(async () => (await w.activations()).length === before + 1, "the start-up activation");
    assert.equal((await w.activations()).at(-1), `activated ${app2} build=201`);
    assert.equal(await daemon.stop("SIGINT"), 0);
    assert.equal((await w.activations()).length, before + 1, "only the start-up activation ran");
  });
});
