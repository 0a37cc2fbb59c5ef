// Daemon idle cost: the real daemon (dist/hail.mjs) on a profile that is already at the gate's
// constituent, polling every millisecond, so that every pass is an idle one. Requests come
// from the test server's log, subprocesses from the nix spy and the activation log, CPU and
// memory from /proc.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HAIL_BIN, HailDaemon, runHail } from "../support/cli.js";
import { createWorld, greenGate, publishedApps, type World } from "../e2e/world.js";
import { cleanNodeEnv, cpuMs, memoryKiB, waitFor } from "./proc.js";
import type { Section } from "./report.js";
import { formatMs } from "./stats.js";

/** The target for an idle daemon's resident memory. */
export const IDLE_RSS_TARGET_MIB = 80;
const PERIOD = "1ms";
const CALIBRATION_POLLS = 500;
const GC_PROBE = fileURLToPath(new URL("./gc-probe.mjs", import.meta.url));

export async function measureIdleDaemon(polls: number): Promise<Section> {
  const world = await createWorld();
  try {
    await deployOnce(world);
    const calibration = await countPerPass(world);
    const steady = await pollIdle(world, polls, []);
    // The same run with the V8 flags the bundle's shebang line (and the Nix wrapper) start hail with.
    const shippedFlags = await shippedNodeFlags();
    const shipped = await pollIdle(world, polls, shippedFlags);
    return idleSection(polls, calibration, steady, { flags: shippedFlags, steady: shipped });
  } finally {
    await world.close();
  }
}

/** The node flags in dist/hail.mjs's shebang line, so the bench measures what `hail` runs with. */
async function shippedNodeFlags(): Promise<string[]> {
  const firstLine = (await readFile(HAIL_BIN, "utf8")).split("\n", 1)[0] ?? "";
  const match = /^#!\/usr\/bin\/env -S node (.*)$/.exec(firstLine);
  if (!match?.[1]) throw new Error(`${HAIL_BIN} starts with ${JSON.stringify(firstLine)}: no node flags`);
  return match[1].split(/\s+/);
}

/** One real deployment with a one-shot run, so the daemon's passes find nothing to do. */
async function deployOnce(world: World): Promise<void> {
  const [app] = await publishedApps(world.lab, { name: "myapp", version: "1.0" });
  if (app === undefined) throw new Error("the lab built no app");
  for (const b of greenGate(100, 10, app)) world.hydra.addBuild(b);
  const r = await runHail([...world.gateArgs("myapp"), "--oneshot"], cleanNodeEnv(world.env));
  if (r.code !== 0) throw new Error(`the first deployment failed (exit ${r.code}):\n${r.stderr}`);
}

interface Calibration { passes: number; requests: number; nixCalls: number; activations: number }

/**
 * Exact counts per pass: at debug level every idle pass logs "profile is up to date", and
 * SIGTERM lets the running pass finish, so passes and requests cover the same span.
 */
async function countPerPass(world: World): Promise<Calibration> {
  world.hydra.resetRequests();
  const nix0 = (await world.nixCalls()).length;
  const act0 = (await world.activations()).length;
  const daemon = HailDaemon.start([...world.gateArgs("myapp"), "--poll-period", PERIOD, "--log-level", "debug"], cleanNodeEnv(world.env));
  const passes = () => daemon.stderr.split("profile is up to date").length - 1;
  try {
    await daemon.waitFor(() => passes() >= CALIBRATION_POLLS, `${CALIBRATION_POLLS} idle passes`);
  } finally {
    await daemon.stop("SIGTERM");
  }
  return {
    passes: passes(),
    requests: world.hydra.requests.length,
    nixCalls: (await world.nixCalls()).length - nix0,
    activations: (await world.activations()).length - act0,
  };
}

interface Steady {
  polls: number;
  seconds: number;
  requests: number;
  cpuMs: number;
  nixCalls: number;
  activations: number;
  rssStartKiB: number;
  rssEndKiB: number;
  peakKiB: number;
  /** RSS in KiB after each tenth of the polls */
  rssTrend: number[];
  /** after a forced full GC at the end: RSS and JS heap in use, KiB */
  afterGc: { rssKiB: number; heapUsedKiB: number; heapTotalKiB: number };
  exitCode: number;
}

/** The measured run at the default log level; a pass is one latest-finished request (calibrated above). */
async function pollIdle(world: World, polls: number, nodeFlags: string[]): Promise<Steady> {
  world.hydra.resetRequests();
  const latestRequests = () => world.hydra.requests.filter((r) => r.path.endsWith("/latest-finished")).length;
  const act0 = (await world.activations()).length;
  const gcOut = path.join(world.lab.root, "gc-probe.jsonl");
  const env = { ...cleanNodeEnv(world.env), NODE_OPTIONS: `--import ${GC_PROBE}`, HAIL_BENCH_GC_OUT: gcOut };
  const daemon = HailDaemon.start([...world.gateArgs("myapp"), "--poll-period", PERIOD], env, nodeFlags);
  const pid = daemon.child.pid;
  if (pid === undefined) throw new Error("the daemon did not start");
  let exitCode = -1;
  try {
    // The start-up activation (SPEC §2.6) and the first passes are not counted.
    await waitFor(async () => (await world.activations()).length > act0 && latestRequests() >= 20, "the daemon's start-up", 30_000);
    const nix0 = (await world.nixCalls()).length;
    const act1 = (await world.activations()).length;
    const cpu0 = await cpuMs(pid);
    const mem0 = await memoryKiB(pid);
    const r0 = latestRequests();
    const all0 = world.hydra.requests.length;
    const t0 = Date.now();
    // RSS at every tenth of the run: a steady climb is a leak, a plateau is the GC's choice.
    const rssTrend: number[] = [];
    await waitFor(async () => {
      const done = latestRequests() - r0;
      if (done >= ((rssTrend.length + 1) * polls) / 10) rssTrend.push((await memoryKiB(pid)).rss);
      return done >= polls;
    }, `${polls} idle polls`, 600_000, 20);
    const cpu1 = await cpuMs(pid);
    const mem1 = await memoryKiB(pid);
    const r1 = latestRequests();
    const all1 = world.hydra.requests.length;
    const t1 = Date.now();
    const afterGc = await fullGc(pid, gcOut);
    const measured = {
      polls: r1 - r0,
      seconds: (t1 - t0) / 1000,
      requests: all1 - all0,
      cpuMs: cpu1 - cpu0,
      nixCalls: (await world.nixCalls()).length - nix0,
      activations: (await world.activations()).length - act1,
      rssStartKiB: mem0.rss,
      rssEndKiB: mem1.rss,
      peakKiB: mem1.peak,
      rssTrend,
      afterGc,
    };
    exitCode = await daemon.stop("SIGTERM");
    return { ...measured, exitCode };
  } finally {
    if (daemon.alive) await daemon.stop("SIGKILL");
  }
}

/** Asks the gc-probe for a full collection and reads what it saw. */
async function fullGc(pid: number, out: string): Promise<Steady["afterGc"]> {
  process.kill(pid, "SIGUSR2");
  let line = "";
  await waitFor(async () => {
    line = (await readFile(out, "utf8").catch(() => "")).trim();
    return line !== "";
  }, "the gc probe", 10_000);
  const after = (JSON.parse(line) as { after: NodeJS.MemoryUsage }).after;
  return { rssKiB: after.rss / 1024, heapUsedKiB: after.heapUsed / 1024, heapTotalKiB: after.heapTotal / 1024 };
}

function idleSection(target: number, cal: Calibration, s: Steady, shipped: { flags: string[]; steady: Steady }): Section {
  const mib = (kib: number) => kib / 1024;
  const rssOk = mib(s.rssEndKiB) < IDLE_RSS_TARGET_MIB;
  const t = shipped.steady;
  const shippedOk = mib(t.rssEndKiB) < IDLE_RSS_TARGET_MIB;
  return {
    title: `Daemon idle cost: dist/hail.mjs --poll-period ${PERIOD}, ${s.polls} idle polls after start-up`,
    rows: [
      { label: "HTTP requests per idle poll", value: (s.requests / s.polls).toFixed(3), raw: s.requests / s.polls,
        note: `${s.requests} requests / ${s.polls} polls; exact count at debug level: ${cal.requests} / ${cal.passes} passes = ${(cal.requests / cal.passes).toFixed(3)}` },
      { label: "subprocesses per idle poll", value: ((s.nixCalls + s.activations) / s.polls).toFixed(3), raw: (s.nixCalls + s.activations) / s.polls,
        note: `nix commands ${s.nixCalls}, activations ${s.activations} (debug run: nix ${cal.nixCalls}, activations ${cal.activations}, the one at start-up included)` },
      { label: "CPU per idle poll", value: formatMs(s.cpuMs / s.polls), raw: s.cpuMs / s.polls,
        note: `${Math.round(s.cpuMs)} ms user+system over ${s.seconds.toFixed(1)} s (${Math.round(s.polls / s.seconds)} polls/s)` },
      { label: "RSS after the idle polls", value: `${mib(s.rssEndKiB).toFixed(1)} MiB`, raw: mib(s.rssEndKiB),
        note: `node's default flags; target < ${IDLE_RSS_TARGET_MIB} MiB: ${rssOk ? "MET" : "NOT MET"}; after start-up ${mib(s.rssStartKiB).toFixed(1)} MiB, peak ${mib(s.peakKiB).toFixed(1)} MiB` },
      { label: "RSS, as shipped", value: `${mib(t.rssEndKiB).toFixed(1)} MiB`, raw: mib(t.rssEndKiB),
        note: `node ${shipped.flags.join(" ")} (the bundle's shebang, the Nix wrapper); target < ${IDLE_RSS_TARGET_MIB} MiB: ${shippedOk ? "MET" : "NOT MET"}; ` +
          `after start-up ${mib(t.rssStartKiB).toFixed(1)} MiB, peak ${mib(t.peakKiB).toFixed(1)} MiB, CPU per poll ${formatMs(t.cpuMs / t.polls)}` },
    ],
    lines: [
      `RSS (MiB) after each tenth of the polls: ${s.rssTrend.map((k) => mib(k).toFixed(0)).join(" ")}`,
      `after a forced full GC at the end: JS heap in use ${mib(s.afterGc.heapUsedKiB).toFixed(1)} MiB of ${mib(s.afterGc.heapTotalKiB).toFixed(1)} MiB, ` +
        `RSS ${mib(s.afterGc.rssKiB).toFixed(1)} MiB (the daemon runs with a small --import probe that does this on SIGUSR2)`,
      `polls measured ${s.polls} (asked ${target}); the daemon exited ${s.exitCode} on SIGTERM.`,
      "At a 5 m period the CPU figure is the cost of one pass every 5 minutes.",
    ],
  };
}
