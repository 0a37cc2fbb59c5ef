// --confirm-timeout end to end: after a successful activation hail must hear from Hydra again,
// or it rolls back. The activation waits for the test (a file) so that the test server can
// stop answering between the activation and the confirmation, without any timing guess.
import assert from "node:assert/strict";
import { access, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createWorld, greenGate, loggedActivation, publishedApps, waitUntil, type World } from "./world.js";

const WAIT_FOR_TEST = 'touch "$HAIL_TEST_ACTIVATED"; while [ ! -e "$HAIL_TEST_PROCEED" ]; do sleep 0.05; done';

describe("hail --confirm-timeout with real Nix", () => {
  let w: World;
  let app1: string, app2: string, app3: string;
  let activated: string, proceed: string;
  const run = () =>
    w.hail([...w.gateArgs("myapp"), "--oneshot", "--confirm-timeout", "3s", "--timeout", "1s"], {
      HAIL_TEST_ACTIVATED: activated,
      HAIL_TEST_PROCEED: proceed,
    });
  const exists = (f: string) => access(f).then(() => true, () => false);

  before(async () => {
    w = await createWorld();
    activated = path.join(w.lab.root, "activated");
    proceed = path.join(w.lab.root, "proceed");
    [app1, app2, app3] = (await publishedApps(
      w.lab,
      { name: "myapp", version: "1" },
      { name: "myapp", version: "2", activate: loggedActivation(WAIT_FOR_TEST) },
      { name: "myapp", version: "3", activate: loggedActivation(WAIT_FOR_TEST) },
    )) as [string, string, string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--confirm-timeout", "3s"]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => w.close());

  it("Hydra stops answering right after the activation: rolled back, marked failed", async () => {
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    const running = run();
    await waitUntil(() => exists(activated), "the activation of app2 to start");
    // From now on every Hydra request times out (the answer comes after --timeout).
    w.hydra.override(/latest-finished$/, { status: 200, body: "{}", delayMs: 1_500 });
    await writeFile(proceed, "");
    const r = await running;
    w.hydra.clearOverrides();
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no answer from Hydra within --confirm-timeout 3s after the activation/);
    assert.equal(await w.profileTarget("myapp"), app1, "rolled back to app1");
    assert.deepEqual((await w.activations()).slice(-2), [`activated ${app2} build=201`, `activated ${app1} build=101`]);
    const state = await w.readState("myapp");
    assert.ok(state?.failed.some((f) => f.storePath === app2), "app2 is marked failed");
  });

  it("Hydra answers after the activation: the deployment stands", async () => {
    for (const b of greenGate(300, 30, app3)) w.hydra.addBuild(b);
    w.hydra.resetRequests();
    const r = await run();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /confirmed: Hydra answered after the activation/);
    assert.equal(await w.profileTarget("myapp"), app3);
    const latest = w.hydra.requests.filter((q) => q.path === "/job/myproject/main/release_gate/latest-finished");
    assert.equal(latest.length, 2, "the pass's request and the confirmation");
  });
});
