// Everything hail must refuse, end to end: the built CLI against the Hydra test server, with
// a spy on nix commands proving that nothing ran and the profile was never touched.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { HydraTestServer } from "../support/hydra-server.js";
import { runHail } from "../support/cli.js";
import { createWorld, greenGate, type World } from "./world.js";

const HASH = "0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r";

describe("hail --oneshot refuses what it cannot trust", () => {
  let w: World;
  beforeEach(async () => {
    w = await createWorld();
  });
  afterEach(() => w.close());

  async function assertUntouched() {
    assert.deepEqual(await w.nixCalls(), [], "no nix command ran");
    assert.deepEqual(await w.activations(), [], "no activation ran");
    assert.equal(await w.profileTarget("myapp"), null, "the profile was not created");
  }

  it("Hydra's 404 (no successful build yet) exits 75 and leaves the profile alone", async () => {
    w.hydra.loadScenario("gate-none.json", { app1: `/nix/store/${HASH}-myapp-1` });
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /There is no successful build to redirect to/);
    assert.match(r.stderr, /latest-finished/);
    await assertUntouched();
  });

  it("a status-6 constituent inside a green gate is refused (75)", async () => {
    w.hydra.loadScenario("gate-status6.json", { app1: `/nix/store/${HASH}-myapp-1` });
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /buildstatus 6: failed with output/);
    await assertUntouched();
  });

  it("a constituent name the gate does not have exits 65 and lists the names there are", async () => {
    w.hydra.loadScenario("gate-green.json", { app1: `/nix/store/${HASH}-myapp-1` });
    const r = await w.hail([...w.gateArgs("myapp", "webapp"), "--oneshot"]);
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, /no constituent named \\"webapp\\"; it has: myapp, tests/);
    await assertUntouched();
  });

  const badBodies: [string, string][] = [
    ["an HTML page", "<!DOCTYPE html><html><body>Sign in</body></html>"],
    ["a truncated body", '{"id": 100, "finished": 1, "buildst'],
    ["an empty object", "{}"],
  ];
  for (const [what, body] of badBodies) {
    it(`${what} where a build should be exits 65 naming the URL`, async () => {
      w.hydra.loadScenario("gate-green.json", { app1: `/nix/store/${HASH}-myapp-1` });
      w.hydra.override("/build/100", { status: 200, body, headers: { "content-type": "application/json" } });
      const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
      assert.equal(r.code, 65, r.stderr);
      assert.match(r.stderr, new RegExp(`invalid response from ${w.hydra.url}/build/100`));
      await assertUntouched();
    });
  }

  it("HTTP 500 exits 69 after capped retries", async () => {
    w.hydra.override(/latest-finished/, { status: 500, body: "Internal Server Error" });
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 69, r.stderr);
    assert.match(r.stderr, /500/);
    const attempts = w.hydra.requests.filter((q) => q.path.endsWith("/latest-finished"));
    assert.equal(attempts.length, 3, "one request and two retries, then give up");
    await assertUntouched();
  });

  it("a refused connection exits 69", async () => {
    const gone = await HydraTestServer.start();
    const deadUrl = `${gone.url}/job/myproject/main/release_gate`;
    await gone.close();
    const r = await runHail(["--gate-job", deadUrl, "--constituent", "myapp", "--profile", "myapp", ...w.labArgs(), "--oneshot"], w.env);
    assert.equal(r.code, 69, r.stderr);
    assert.match(r.stderr, new RegExp(`Hydra unavailable at ${gone.url}`));
    await assertUntouched();
  });

  const unsafePaths = [
    "/nix/store/../etc",
    `/nix/store/${HASH}-myapp;rm -rf`,
    `/nix/store/${HASH}-my app`,
    `/nix/store/${HASH}-myapp/../../etc`,
    `/tmp/${HASH}-myapp`,
    `/nix/store/${HASH}-$(reboot)`,
  ];
  for (const unsafe of unsafePaths) {
    it(`refuses the unsafe store path ${JSON.stringify(unsafe)} before any command runs (65)`, async () => {
      for (const b of greenGate(100, 10, unsafe)) w.hydra.addBuild(b);
      const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
      assert.equal(r.code, 65, r.stderr);
      assert.match(r.stderr, /is not a plain store path/);
      await assertUntouched();
      const plan = await w.hail(["plan", ...w.gateArgs("myapp"), "--json"]);
      assert.equal(plan.code, 65);
      assert.equal((JSON.parse(plan.stdout) as { error: { kind: string } }).error.kind, "invalid_response");
    });
  }
});
