// Fleet simulation: many agents in this one process, each a host with its own HydraClient,
// resolution cache and profile, running hail's real loop (createLoop, with its jitter) around
// the real pass core (resolveLatest + decide) against the Hydra test server. No Nix: a
// "deployment" sets the agent's current path. Request times are taken on the client side
// (HydraClient's onRequest), the moment a request leaves; the server's log checks the count.
// The server runs in a child process (fleet-server.ts), so the two share the machine's cores.
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { createLoop, firstPollDelay, jitteredDelay } from "../../src/daemon/loop.js";
import { decide } from "../../src/resolve/decide.js";
import { EMPTY_MEMORY } from "../resolve/builds.js";
import { resolveLatest, resolutionOf, type ResolutionCache } from "../../src/resolve/latest.js";
import type { RolloutPolicy } from "../../src/resolve/rollout.js";
import type { Source } from "../../src/resolve/target.js";
import { HydraClient } from "../../src/hydra/client.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import type { ServerMessage, ServerReply } from "./fleet-server.js";
import { sleep } from "./proc.js";
import type { Section } from "./report.js";
import { formatRatio, rateSummary } from "./stats.js";
import { rolloutRunSection } from "./rollout-spread.js";

const APP_V1 = "/nix/store/7xk3w8lbc6r1hzz4q3f0d4c9m2i5y1a0-myapp-1.0";
const APP_V2 = "/nix/store/4gq5n1dw2p8hvsr7kcj0ffzb6al3y9m1-myapp-2.0";
const BUCKET_MS = 100;
const ROLLOUT_PERIOD_MS = 1_000;
const STORE_DIR = "/nix/store";
const ROLLOUT_GATE_ID = 200;

export interface FleetScenario {
  agents: number;
  periodMs: number;
  jitter: number;
  /** 0: every agent starts at the same instant (a fleet rebooted together); else a random start within this span */
  startSpreadMs: number;
  /** hail's start: each agent's profile exists, so its first poll is spread over the first period */
  spreadFirstPoll?: boolean;
  durationMs: number;
  rollout?: { windowMs: number; offerAtMs: number };
  /** the base URL the agents use, given the Hydra server's (a proxy in front of it); default the server's */
  through?: (hydraUrl: string) => Promise<string>;
}

export interface FleetRun {
  /** request departure times, ms since the start */
  requestTimes: number[];
  /** per agent: when it deployed the new build (ms since the start), or null */
  deployedAt: (number | null)[];
  /** per agent: its --rollout-key */
  keys: string[];
  /** the new gate build's stoptime, ms since the start (null without a rollout) */
  rolloutStartMs: number | null;
  rolloutGateId: number;
  serverRequests: number;
  /** with `through`: every request the server saw, and the X-Forwarded-For it came with */
  serverLog: { path: string; forwardedFor: string | null }[];
  errors: number;
  passes: number;
  eventLoopUtilization: number;
}

export async function simulateFleet(scenario: FleetScenario): Promise<FleetRun> {
  const hydra = await FleetServer.start(APP_V1);
  try {
    const base = scenario.through ? await scenario.through(hydra.url) : hydra.url;
    const source: Source = { kind: "gate", job: parseJobUrl(`${base}/job/myproject/main/release_gate`), constituent: "myapp" };
    const requestTimes: number[] = [];
    // Set when the agents start, after they are all built.
    let t0 = 0;
    let wallStart = 0;
    const since = () => performance.now() - t0;
    const run: FleetRun = {
      requestTimes, deployedAt: new Array<null>(scenario.agents).fill(null),
      keys: Array.from({ length: scenario.agents }, (_, i) => `host-${String(i).padStart(4, "0")}`),
      rolloutStartMs: null, rolloutGateId: ROLLOUT_GATE_ID,
      serverRequests: 0, serverLog: [], errors: 0, passes: 0, eventLoopUtilization: 0,
    };
    // Each host starts from the state file's record of what it deployed: one request per idle poll from the first.
    const seed = await resolveLatest(new HydraClient({ baseUrl: source.job.baseUrl, timeoutMs: 30_000 }), source, { output: "out", storeDir: STORE_DIR }, null);
    const loops = Array.from({ length: scenario.agents }, (_, i) => {
      const hydraClient = new HydraClient({ baseUrl: source.job.baseUrl, timeoutMs: 30_000, onRequest: () => requestTimes.push(since()) });
      const rollout: RolloutPolicy | null = scenario.rollout ? { windowMs: scenario.rollout.windowMs, key: run.keys[i] ?? "" } : null;
      let cache: ResolutionCache | null = seed;
      let current: string = APP_V1;
      return createLoop(async () => {
        run.passes += 1;
        try {
          cache = await resolveLatest(hydraClient, source, { output: "out", storeDir: STORE_DIR }, cache);
          const resolution = resolutionOf(cache);
          const decision = decide(resolution, current, EMPTY_MEMORY, new Date(), rollout);
          if (decision.kind === "deploy") {
            current = resolution.storePath;
            run.deployedAt[i] = since();
          }
        } catch {
          run.errors += 1;
        }
      }, {
        periodMs: scenario.periodMs,
        jitter: scenario.jitter,
        firstDelayMs: scenario.spreadFirstPoll === true ? firstPollDelay(scenario.periodMs, true, Math.random) : 0,
      });
    });
    t0 = performance.now();
    wallStart = Date.now();
    const elu0 = performance.eventLoopUtilization();
    const runs = loops.map((loop) =>
      scenario.startSpreadMs === 0 ? loop.run() : sleep(Math.random() * scenario.startSpreadMs).then(() => loop.run()));
    if (scenario.rollout) {
      await sleep(scenario.rollout.offerAtMs);
      // stoptime is whole seconds, as Hydra's: the window starts at the last full second.
      const stoptime = Math.floor(Date.now() / 1000);
      run.rolloutStartMs = stoptime * 1000 - wallStart;
      await hydra.ask({ kind: "offer", gateId: ROLLOUT_GATE_ID, evalId: 20, storePath: APP_V2, stoptime });
      await sleep(scenario.durationMs - scenario.rollout.offerAtMs);
    } else {
      await sleep(scenario.durationMs);
    }
    for (const loop of loops) loop.stop();
    await Promise.all(runs);
    run.eventLoopUtilization = performance.eventLoopUtilization(elu0).utilization;
    const counted = await hydra.ask({ kind: "count" });
    run.serverRequests = counted.kind === "count" ? counted.requests : NaN;
    if (scenario.through) {
      const log = await hydra.ask({ kind: "log" });
      run.serverLog = log.kind === "log" ? log.requests : [];
    }
    return run;
  } finally {
    await hydra.close();
  }
}

/** The forked fleet-server.ts, spoken to over IPC. */
class FleetServer {
  private constructor(private readonly child: ChildProcess, readonly url: string) {}

  static async start(initialPath: string): Promise<FleetServer> {
    // fork() passes on this process's --import tsx.
    const child = fork(new URL("./fleet-server.ts", import.meta.url), [initialPath], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const exited = once(child, "exit").then(([code]) => {
      throw new Error(`fleet server exited (${String(code)}) before it was ready`);
    });
    const [ready] = (await Promise.race([once(child, "message"), exited])) as [ServerReply];
    if (ready.kind !== "ready") throw new Error(`fleet server: unexpected first message ${JSON.stringify(ready)}`);
    return new FleetServer(child, ready.url);
  }

  async ask(message: ServerMessage): Promise<ServerReply> {
    const reply = once(this.child, "message") as Promise<[ServerReply]>;
    this.child.send(message);
    return (await reply)[0];
  }

  async close(): Promise<void> {
    const exited = once(this.child, "exit");
    this.child.send({ kind: "close" } satisfies ServerMessage);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

const FLEET_TARGET = 1.6;

/** Issue target: a fleet started together peaks at most 1.6× its mean in every period, the first included. */
function fleetTarget(measure: string, hail: number, baseline: number): string {
  const met = hail <= FLEET_TARGET ? "MET" : "NOT MET";
  return `target (${measure}): a fleet started together peaks at ≤ ${FLEET_TARGET}× its mean in every period from the first: ${met} ` +
    `(worst period ${formatRatio(hail)}; random-start baseline ${formatRatio(baseline)})`;
}

/**
 * The schedule alone, on a virtual clock: the loop's own delay functions (firstPollDelay,
 * jitteredDelay) with instant passes, so no busy event loop blurs what the schedule does.
 */
function scheduleOnly(agents: number, periodMs: number, periods: number): string[] {
  const endMs = periods * periodMs;
  const simulate = (startMs: () => number): number[] => {
    const times: number[] = [];
    for (let a = 0; a < agents; a++) {
      for (let t = startMs(); t < endMs; t += jitteredDelay(periodMs, 0.1, Math.random)) times.push(t);
    }
    return times;
  };
  const worstOf = (times: number[]) => {
    const perPeriod = Array.from({ length: periods }, (_, k) => rateSummary(times, BUCKET_MS, k * periodMs, (k + 1) * periodMs).peakToMean);
    return { perPeriod, worst: Math.max(...perPeriod) };
  };
  const together = worstOf(simulate(() => 0));
  const spread = worstOf(simulate(() => firstPollDelay(periodMs, true, Math.random)));
  const random = worstOf(simulate(() => Math.random() * periodMs));
  const show = (r: { perPeriod: number[] }) => r.perPeriod.map((x) => x.toFixed(1)).join(" ");
  return [
    `the schedule alone (virtual clock, instant passes), peak/mean per period: first poll at once ${show(together)}; ` +
      `hail's spread first poll ${show(spread)}; random start ${show(random)}`,
    fleetTarget("schedule alone", spread.worst, random.worst),
  ];
}

interface FleetOptions { agents: number; periodMs: number; seconds: number; rolloutAgents: number }

export async function measureFleet(opts: FleetOptions): Promise<Section[]> {
  const durationMs = opts.seconds * 1000;
  const scenarios: { label: string; jitter: number; startSpreadMs: number; spreadFirstPoll: boolean }[] = [
    { label: "jitter off, started together, first poll at once", jitter: 0, startSpreadMs: 0, spreadFirstPoll: false },
    { label: "jitter ±10 %, started together, first poll at once (before)", jitter: 0.1, startSpreadMs: 0, spreadFirstPoll: false },
    { label: "hail: started together, first poll spread, jitter ±10 %", jitter: 0.1, startSpreadMs: 0, spreadFirstPoll: true },
    { label: "jitter ±10 %, random start (baseline)", jitter: 0.1, startSpreadMs: opts.periodMs, spreadFirstPoll: false },
  ];
  const rows = [];
  const lines: string[] = [];
  const worst = new Map<string, number>();
  for (const s of scenarios) {
    const run = await simulateFleet({ agents: opts.agents, periodMs: opts.periodMs, jitter: s.jitter, startSpreadMs: s.startSpreadMs, spreadFirstPoll: s.spreadFirstPoll, durationMs });
    const whole = rateSummary(run.requestTimes, BUCKET_MS, 0, durationMs);
    const periods = Array.from({ length: Math.floor(durationMs / opts.periodMs) }, (_, k) =>
      rateSummary(run.requestTimes, BUCKET_MS, k * opts.periodMs, (k + 1) * opts.periodMs).peakToMean);
    const lastPeriod = periods.at(-1) ?? NaN;
    const worstPeriod = Math.max(...periods);
    worst.set(s.label, worstPeriod);
    rows.push({
      label: s.label,
      value: `${Math.round(whole.meanPerSecond)} req/s`,
      raw: whole.meanPerSecond,
      note: `peak/mean ${formatRatio(whole.peakToMean)} (first period ${formatRatio(periods[0] ?? NaN)}, worst ${formatRatio(worstPeriod)}, last ${formatRatio(lastPeriod)}), peak ${Math.round(whole.peakPerSecond)} req/s`,
    });
    const busy = Math.round(run.eventLoopUtilization * 100);
    lines.push(
      `${s.label}: peak/mean per period ${periods.map((r) => r.toFixed(1)).join(" ")}`,
      `  ${run.passes} passes, ${run.requestTimes.length} requests sent, ${run.serverRequests} seen by the server (3 of them to seed the agents), ` +
        `${run.errors} errors; agents' event loop busy ${busy} %${busy > 80 ? " (CPU-bound: peaks are understated; try a longer --fleet-period)" : ""}`,
    );
  }
  const even = opts.periodMs / BUCKET_MS;
  const fleet: Section = {
    title: `Fleet: ${opts.agents} agents in one process (real createLoop + resolveLatest + decide), --poll-period ${opts.periodMs / 1000}s, ${opts.seconds} s, peak over ${BUCKET_MS} ms buckets`,
    rows,
    lines: [
      ...lines,
      `${opts.agents} idle hosts at a ${opts.periodMs / 1000} s period should make ${Math.round((opts.agents * 1000) / opts.periodMs)} requests/s; ` +
        `peak/mean is 1.0 for a perfectly even load and ${even.toFixed(1)} when every host polls in the same ${BUCKET_MS} ms.`,
      "The baseline (hosts booted at random times) shows what an even fleet measures on this machine.",
      fleetTarget("requests sent", worst.get(scenarios[2]?.label ?? "") ?? NaN, worst.get(scenarios[3]?.label ?? "") ?? NaN),
      "Requests sent carry this machine's noise: a busy event loop fires late timers together, in the baseline too.",
      ...scheduleOnly(opts.agents, opts.periodMs, Math.floor(durationMs / opts.periodMs)),
    ],
  };
  const rolloutWindowMs = 10_000;
  const rollout = await simulateFleet({
    agents: opts.rolloutAgents, periodMs: ROLLOUT_PERIOD_MS, jitter: 0.1, startSpreadMs: ROLLOUT_PERIOD_MS,
    durationMs: rolloutWindowMs + 5_000, rollout: { windowMs: rolloutWindowMs, offerAtMs: 1_000 },
  });
  return [fleet, rolloutRunSection(rollout, rolloutWindowMs, ROLLOUT_PERIOD_MS)];
}
