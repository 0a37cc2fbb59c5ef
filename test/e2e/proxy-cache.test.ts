// Big fleets through a cache: nginx (Debian nginx-light) with nix/nginx/hydra-cache.conf in
// front of the Hydra test server, and the bench's in-process fleet polling through it. Hydra
// sees at most one latest-finished per cache period, /build/… passes through, and every host
// still moves to the new build, taking its id from the Location path (nginx leaves Location
// pointing at Hydra itself; no agent goes there).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { proxiedFleet } from "../bench/proxy-cache.js";
import { greenGate } from "./world.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { NginxProxy } from "../support/nginx.js";

const AGENTS = 150;
const PERIOD_MS = 500;
const DURATION_MS = 12_000;

describe("a fleet through the nginx cache in front of Hydra", () => {
  it("nginx keeps the latest-finished redirect (per Accept), passes /build/ through, and leaves Location at Hydra", async () => {
    const hydra = await HydraTestServer.start();
    const proxy = await NginxProxy.start(hydra.url);
    try {
      for (const b of greenGate(100, 10, "/nix/store/7xk3w8lbc6r1hzz4q3f0d4c9m2i5y1a0-myapp-1.0")) hydra.addBuild(b);
      const latest = `${proxy.url}/job/myproject/main/release_gate/latest-finished`;
      const ask = (accept: string) => fetch(latest, { redirect: "manual", headers: { accept } });
      const answers = [await ask("application/json"), await ask("application/json"), await ask("text/html"), await ask("application/json")];
      assert.deepEqual(answers.map((r) => r.status), [302, 302, 302, 302]);
      assert.deepEqual(answers.map((r) => r.headers.get("location")), answers.map(() => `${hydra.url}/build/100`));
      assert.deepEqual(answers.map((r) => r.headers.get("x-cache-status")), ["MISS", "HIT", "MISS", "HIT"], "one entry per Accept");
      for (let i = 0; i < 3; i += 1) assert.equal((await fetch(`${proxy.url}/build/100/constituents`, { headers: { accept: "application/json" } })).status, 200);
      const seen = hydra.requests.map((q) => q.path);
      assert.deepEqual(seen.filter((p) => p.endsWith("/latest-finished")).length, 2, "JSON and HTML, once each");
      assert.deepEqual(seen.filter((p) => p === "/build/100/constituents").length, 3, "never cached");
      assert.ok((await proxy.pid()) > 0);
    } finally {
      await proxy.stop();
      await hydra.close();
    }
  });

  it(`${AGENTS} agents polling every ${PERIOD_MS} ms: Hydra sees at most one latest-finished per cache period, and every host deploys the new build`, async () => {
    const r = await proxiedFleet({ agents: AGENTS, periodMs: PERIOD_MS, durationMs: DURATION_MS, offerAtMs: 3_000, proxy: true });
    assert.equal(r.run.errors, 0);
    // The agents asked for latest-finished at every pass; Hydra answered one per cache period
    // (nginx counts time in whole seconds, so a period may be a second short) and the seed.
    const periods = Math.ceil(DURATION_MS / 1000 / (r.validSeconds - 1));
    assert.ok(r.run.passes > 10 * (periods + 1), `${r.run.passes} passes`);
    assert.ok(r.latestAtHydra >= 1 && r.latestAtHydra <= periods + 1, `${r.latestAtHydra} latest-finished reached Hydra in ${DURATION_MS} ms, cache ${r.validSeconds} s`);
    // Each host read the new gate's build and constituents once, all passed through to Hydra.
    const constituents = r.run.serverLog.filter((q) => q.path === `/build/${r.run.rolloutGateId}/constituents`).length;
    assert.equal(constituents, AGENTS);
    assert.equal(r.run.deployedAt.filter((t) => t !== null).length, AGENTS, "every host took build id 200 from the Location path");
    assert.equal(r.bypassed, 0, "no request went to the Location's host, past nginx");
  });
});
