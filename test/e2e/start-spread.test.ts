// --no-start-spread (config key noStartSpread): a daemon whose profile exists polls at once
// instead of spreading its first poll over the period. It replaces the HAIL_NO_START_SPREAD
// variable production code used to read for the tests (issue 22, point 7). The built CLI as a
// daemon, real Nix, the Hydra test server.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { worldAtGreenGate, type World } from "./world.js";

describe("--no-start-spread", () => {
  let w: World;
  const latest = () => w.hydra.requests.filter((q) => q.path.endsWith("/latest-finished")).length;

  before(async () => {
    ({ world: w } = await worldAtGreenGate("1"));
    const first = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(first.code, 0, first.stderr);
  });
  afterEach(() => w.stopDaemons());
  after(() => w.close());

  // A 7-day period: with the spread, the first poll would come at a random moment of it.
  it("the flag: an existing profile, a 7-day period, and the first poll at once", async () => {
    const before = latest();
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "7d", "--no-start-spread"], w.env, { startSpread: true });
    await daemon.waitFor(() => latest() > before, "the first poll");
    assert.ok(!daemon.logLines().some((l) => String(l.msg).startsWith("first poll in")), daemon.stderr);
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });

  it("the config file's noStartSpread: the same", async () => {
    const config = path.join(w.lab.root, "no-spread.json");
    const [profilesDir, stateDir] = [w.lab.profilesDir, w.stateDir];
    await writeFile(config, JSON.stringify({ profilesDir, stateDir, logFormat: "json", pollPeriod: "7d", noStartSpread: true, targets: [{ profile: "myapp", gateJob: w.gateUrl, constituent: "myapp" }] }));
    const before = latest();
    const daemon = w.startDaemon(["--config", config], w.env, { startSpread: true });
    await daemon.waitFor(() => latest() > before, "the first poll");
    assert.ok(!daemon.logLines().some((l) => String(l.msg).startsWith("first poll in")), daemon.stderr);
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });
});
