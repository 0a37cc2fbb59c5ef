// GET /healthz says why (issue 22, point 5): each target's condition — ok, degraded (a known-bad
// build skipped while the good one is kept: 200, hail works as designed) or failing (a failed
// pass, an outage: 503) — with its reason; hail_known_bad_skips_total counts the skips. The built
// CLI as a daemon, real Nix and the Hydra test server.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { HailDaemon } from "../support/cli.js";
import { FAILING_ACTIVATION, greenGate, publishedApps, waitUntil, worldAtGreenGate, type World } from "./world.js";

interface Health {
  status: string;
  profiles: Record<string, { ok: boolean; condition: string; reason: string | null; error: { kind: string; message: string } | null; knownBad?: unknown; kept?: unknown; lastCheckAt: string | null }>;
}

async function metricsUrlOf(daemon: HailDaemon): Promise<string> {
  const started = () => daemon.logLines().find((l) => String(l.msg).startsWith("hail started"));
  await daemon.waitFor(() => started() !== undefined, "the hail started line");
  return String(started()?.metricsUrl);
}

async function health(url: string): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as Health };
}

/** One sample of the exposition, by its whole `name{labels}`; NaN when absent. */
async function sample(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

describe("/healthz tells why", () => {
  let w: World;
  let good: string;
  let bad: string;

  before(async () => {
    ({ world: w, apps: [good] } = await worldAtGreenGate("1"));
    [bad] = (await publishedApps(w.lab, { name: "myapp", version: "2", activate: FAILING_ACTIVATION })) as [string];
  });
  afterEach(() => w.stopDaemons());
  after(() => w.close());

  it("ok, then failing for the failed deployment, degraded while the known-bad build is skipped, failing in an outage", async () => {
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h", "--poll-min-interval", "1ms", "--metrics-listen", "127.0.0.1:0"]);
    const url = await metricsUrlOf(daemon);
    const lastCheck = () => sample(url, 'hail_last_check_timestamp_seconds{profile="myapp"}');
    /** POST /poll, and wait until that pass is over */
    const pollOnce = async (what: string) => {
      const before = await lastCheck();
      assert.equal((await fetch(`${url}/poll`, { method: "POST" })).status, 202);
      await waitUntil(async () => (await lastCheck()) > before, what);
    };

    await waitUntil(async () => (await w.profileTarget("myapp")) === good, "the first deployment");
    await waitUntil(async () => (await lastCheck()) > 0, "the first pass to end");
    const ok = await health(url);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.status, "ok");
    assert.deepEqual({ ...ok.body.profiles.myapp, lastCheckAt: null }, { ok: true, condition: "ok", reason: null, lastCheckAt: null, error: null });

    // Gate 200 offers build 201, whose activation fails: rolled back to build 101, a failed pass.
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    await pollOnce("the failed deployment");
    const failed = await health(url);
    assert.equal(failed.status, 503);
    assert.equal(failed.body.status, "failing");
    assert.equal(failed.body.profiles.myapp?.condition, "failing");
    assert.equal(failed.body.profiles.myapp?.error?.kind, "activation");
    assert.ok(failed.body.profiles.myapp?.reason, "a reason is given");
    assert.equal(await w.profileTarget("myapp"), good, "rolled back");

    // The next pass skips the known-bad build and keeps build 101: degraded, 200.
    await pollOnce("the pass that skips build 201");
    const degraded = await health(url);
    assert.equal(degraded.status, 200, JSON.stringify(degraded.body));
    assert.equal(degraded.body.status, "degraded");
    const myapp = degraded.body.profiles.myapp;
    assert.equal(myapp?.condition, "degraded");
    assert.equal(myapp?.ok, true);
    assert.equal(myapp?.error, null);
    assert.ok(myapp?.reason?.startsWith(`build 201 known-bad, keeping build 101 (${good}): ${bad} failed to deploy at `), myapp?.reason ?? "no reason");
    assert.deepEqual(myapp?.knownBad, { buildId: 201, storePath: bad });
    assert.deepEqual(myapp?.kept, { buildId: 101, storePath: good });
    assert.equal(await sample(url, 'hail_known_bad_skips_total{profile="myapp"}'), 1);
    assert.equal(await sample(url, 'hail_up_to_date{profile="myapp"}'), 0, "still not at the newest build");

    // An outage is a failed pass: 503 with Hydra's error as the reason.
    w.hydra.override(/.*/, { status: 503, body: "Service Unavailable" });
    try {
      await pollOnce("the pass into the outage");
      const outage = await health(url);
      assert.equal(outage.status, 503);
      assert.equal(outage.body.status, "failing");
      assert.equal(outage.body.profiles.myapp?.error?.kind, "unavailable");
      assert.match(outage.body.profiles.myapp?.reason ?? "", /^Hydra unavailable at http:\/\/127\.0\.0\.1:\d+/);
    } finally {
      w.hydra.clearOverrides();
    }
    await pollOnce("the pass after the outage");
    assert.equal((await health(url)).body.status, "degraded");
    assert.equal(await sample(url, 'hail_known_bad_skips_total{profile="myapp"}'), 2);
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });
});
