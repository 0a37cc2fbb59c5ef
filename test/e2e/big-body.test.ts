// Linear time on Hydra data (issue 29, point 5): a gate and a constituent that each list a
// million evaluation ids (bodies of about 8 MB, under the 32 MiB cap). Checking that they share
// one took hours of Array.includes, during which the daemon answered neither /healthz nor
// SIGTERM. Asserted on behaviour, not on time: `npm run bench` measures it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeBuild } from "../support/hydra-server.js";
import { createWorld, publishedApps, waitUntil, type World } from "./world.js";

const MILLION = 1_000_000;
const ids = (from: number) => Array.from({ length: MILLION }, (_, i) => from + i);

/** Gate 100 with `gateEvals`, its constituent myapp (`app`) with `appEvals`, and tests in eval 1. */
function bigGate(app: string, gateEvals: number[], appEvals: number[]): FakeBuild[] {
  const base = { project: "myproject", jobset: "main", finished: true, buildstatus: 0 };
  return [
    { ...base, id: 100, job: "release_gate", jobsetevals: gateEvals, outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: [101, 102] },
    { ...base, id: 101, job: "myapp", jobsetevals: appEvals, outputs: { out: app } },
    { ...base, id: 102, job: "tests", jobsetevals: [1], outputs: { out: "/nix/store/1bq3x6jz9mphgkfs8wrsbkvsy1iw4m57-tests-1.0" } },
  ];
}

describe("a million evaluation ids from Hydra", () => {
  let w: World;
  let app: string;

  before(async () => {
    w = await createWorld();
    [app] = (await publishedApps(w.lab, { name: "myapp", version: "1" })) as [string];
  });
  after(() => w.close());

  it("none shared: the daemon refuses the constituent, answers /healthz meanwhile, goes on, and stops on SIGTERM with 0", { timeout: 300_000 }, async () => {
    for (const b of bigGate(app, ids(1), ids(MILLION + 1))) w.hydra.addBuild(b);
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h", "--metrics-listen", "127.0.0.1:0"]);
    await daemon.waitFor(() => daemon.logLines().some((l) => String(l.msg).startsWith("hail started")), "the hail started line");
    const url = String(daemon.logLines().find((l) => String(l.msg).startsWith("hail started"))?.metricsUrl);
    await waitUntil(() => w.hydra.requests.some((q) => q.path === "/build/100/constituents"), "the constituents request");
    // From the request for the big answer until the refusal, every /healthz gets an answer. The
    // timeout is a safety net only: a daemon stuck in the check never answers at all.
    do {
      const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(120_000) });
      assert.ok(health.status === 200 || health.status === 503, `/healthz answered ${health.status}`);
      await new Promise((r) => setTimeout(r, 50));
    } while (!/shares no evaluation with gate build 100/.test(daemon.stderr));
    const refusal = daemon.logLines().find((l) => /shares no evaluation/.test(String(l.msg)));
    const message = String(refusal?.msg);
    assert.ok(message.includes("gate evals 1…1000000 (1,000,000 ids), constituent evals 1000001…2000000 (1,000,000 ids)"), message);
    assert.ok(message.length < 500, `a short message: ${message.length} characters`);
    const after = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(120_000) });
    assert.equal(after.status, 503);
    assert.match(await after.text(), /"invalid_response"/);
    assert.equal(daemon.alive, true, "the daemon goes on");
    assert.equal(await daemon.stop("SIGTERM"), 0, daemon.stderr);
    assert.equal(await w.profileTarget("myapp"), null, "nothing deployed");
  });

  it("one shared: plan resolves it and reports the newest hundred evaluations", { timeout: 300_000 }, async () => {
    for (const b of bigGate(app, ids(1), ids(1).reverse())) w.hydra.addBuild(b);
    const r = await w.hail(["plan", ...w.gateArgs("myapp"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as { action: string; storePath: string; evals: number[] };
    assert.equal(plan.action, "deploy");
    assert.equal(plan.storePath, app);
    assert.deepEqual([plan.evals.length, plan.evals[0], plan.evals.at(-1)], [100, MILLION - 99, MILLION]);
  });
});
