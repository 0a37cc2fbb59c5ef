// A flood of POST /poll and SIGUSR1 against the built daemon: requests coalesce, at most one
// extra pass runs per --poll-min-interval, the excess is answered 429 and counted in
// hail_poll_requests_rejected_total, and the log grows by a line or two, not one per request.
// And a daemon restarted on an existing profile activates at once but spreads its first poll.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HailDaemon } from "../support/cli.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { waitUntil, worldAtGreenGate, type World } from "./world.js";

const FLOOD = 2_000;
const PARALLEL = 20;

describe("POST /poll and SIGUSR1 floods", () => {
  let dir: string;
  let hydra: HydraTestServer;
  let daemon: HailDaemon;
  let url: string;
  // No build yet (Hydra's 404): every pass is exactly one request and runs no nix command.
  const polls = () => hydra.requests.filter((q) => q.path.endsWith("/latest-finished")).length;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hail-flood-"));
    hydra = await HydraTestServer.start();
    daemon = HailDaemon.start(
      [
        "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp", "--profile", "myapp",
        "--profiles-dir", path.join(dir, "profiles"), "--state-dir", path.join(dir, "state"), "--log-format", "json",
        // An hour each: whatever the machine's speed, the flood fits in one interval and one period.
        "--poll-period", "1h", "--poll-min-interval", "1h", "--metrics-listen", "127.0.0.1:0",
      ],
      { PATH: process.env.PATH ?? "", HOME: dir },
    );
    await daemon.waitFor(() => daemon.logLines().some((l) => String(l.msg).startsWith("hail started")), "the start");
    url = String(daemon.logLines().find((l) => String(l.msg).startsWith("hail started"))?.metricsUrl);
    await waitUntil(() => polls() === 1, "the first pass");
  });
  after(async () => {
    if (daemon.alive) await daemon.stop("SIGKILL");
    await hydra.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(`${FLOOD} POSTs: one extra pass, the rest absorbed or 429 and counted, two log lines`, async () => {
    const linesBefore = daemon.logLines().length;
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    let next = 0;
    const worker = async () => {
      while (next < FLOOD) {
        next += 1;
        const r = await fetch(`${url}/poll`, { method: "POST" });
        await r.text();
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 429) retryAfter = r.headers.get("retry-after");
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    await waitUntil(() => polls() === 2, "the one extra pass");

    assert.equal((statuses.get(202) ?? 0) + (statuses.get(429) ?? 0), FLOOD, JSON.stringify([...statuses]));
    const rejected = statuses.get(429) ?? 0;
    assert.ok(rejected > 0, "the excess is refused");
    assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 3600, `Retry-After: ${retryAfter}`);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^hail_poll_requests_rejected_total\\{profile="myapp"\\} ${rejected}$`, "m"));

    // Settle: a late pass would show up as a third request.
    await fetch(`${url}/metrics`);
    assert.equal(polls(), 2, "one extra pass for the whole flood");
    const added = daemon.logLines().slice(linesBefore).map((l) => String(l.msg));
    const pollLines = added.filter((m) => m.includes("POST /poll"));
    assert.equal(pollLines.length, 2, `one "polling now" line and one summary: ${pollLines.join("\n")}`);
    assert.match(pollLines[1] ?? "", /refused 1 poll request.*--poll-min-interval 1h/);
  });

  it("50 SIGUSR1 within the interval: no pass, no log line, each one counted", async () => {
    const linesBefore = daemon.logLines().length;
    const before = polls();
    const countBefore = Number(/^hail_poll_requests_rejected_total\{profile="myapp"\} (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
    for (let i = 0; i < 50; i++) process.kill(daemon.child.pid as number, "SIGUSR1");
    await waitUntil(
      async () => Number(/^hail_poll_requests_rejected_total\{profile="myapp"\} (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]) >= countBefore + 1,
      "the signals to be counted",
    );
    assert.equal(polls(), before);
    assert.deepEqual(daemon.logLines().slice(linesBefore).map((l) => String(l.msg)), [], "summed up at most once a minute");
    assert.ok(daemon.alive);
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });
});

describe("a daemon restarted on an existing profile, real Nix", () => {
  let w: World;
  let app1: string;

  before(async () => {
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
  });
  after(() => w.close());

  it("activates at once, spreads its first poll over the period, and SIGUSR1 still polls at once", async () => {
    const first = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(first.code, 0, first.stderr);
    const latest = () => w.hydra.requests.filter((q) => q.path.endsWith("/latest-finished")).length;
    const before = latest();
    const activations = (await w.activations()).length;
    // A 7-day period: the first poll is due at a uniformly random moment of it, so not during this test.
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "7d"], w.env, { startSpread: true });
    await daemon.waitFor(() => daemon.logLines().some((l) => /^first poll in (\d+[dhms])+: spread over the period/.test(String(l.msg))), "the spread first poll");
    await daemon.waitFor(async () => (await w.activations()).length === activations + 1, "the start-up activation, at once");
    assert.equal(latest(), before, "no poll yet");
    process.kill(daemon.child.pid as number, "SIGUSR1");
    await daemon.waitFor(() => latest() === before + 1, "the poll SIGUSR1 asked for");
    assert.equal(await daemon.stop("SIGTERM"), 0);

    // A new machine: no profile yet, so the first poll is at once.
    const fresh = w.startDaemon([...w.gateArgs("fresh"), "--poll-period", "7d"], w.env, { startSpread: true });
    await fresh.waitFor(async () => (await w.profileTarget("fresh")) === app1, "the first deployment of a new machine");
    assert.ok(!fresh.logLines().some((l) => String(l.msg).startsWith("first poll in")), fresh.stderr);
    assert.equal(await fresh.stop("SIGTERM"), 0);
  });
});
