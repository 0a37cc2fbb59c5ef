// Daemon idle cost: the real daemon (dist/hail.mjs) on a profile that is already at the gate's
// constituent, polling every millisecond, so that every pass is an idle one. Requests come
// from the test server's log, subprocesses from the nix spy and the activation log, CPU and
// memory from /proc.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HailDaemon, runHail } from "../support/cli.js";
import { createWorld, greenGate, publishedApps, type World } from "../e2e/world.js";
import { cleanNodeEnv, cpuMs, memoryKiB, waitFor } from "./proc.js";
import type { Section } from "./report.js";
import { formatMs } from "./stats.js";

/** The targets for an idle daemon as shipped: resident memory (and stretch), CPU per pass. */
export const IDLE_RSS_TARGET_MIB = 60;
export const IDLE_RSS_STRETCH_MIB = 56;
export const IDLE_CPU_TARGET_MS = 1;
const PERIOD = "1ms";
const CALIBRATION_POLLS = 500;
const GC_PROBE = fileURLToPath(new URL("./gc-probe.mjs", import.meta.url));
let gcRuns = 0;
const PACKAGE_JSON = fileURLToPath(new URL("../../package.json", import.meta.url));

export async function measureIdleDaemon(polls: number): Promise<Section> {
  const world = await createWorld();
  // a new connection for every pass, as at a real poll period (see closeConnections)
  world.hydra.closeConnections = true;
  try {
    await deployOnce(world);
    const calibration = await countPerPass(world);
    const steady = await pollIdle(world, polls, []);
    // The same run with the node flags the daemon's units start it with.
    const shippedFlags = await daemonNodeFlags();
    const shipped = await pollIdle(world, polls, shippedFlags);
    return idleSection(polls, calibration, steady, { flags: shippedFlags, steady: shipped });
  } finally {
    await world.close();
  }
}

/**
 * package.json's daemonNodeFlags: what the daemon's units start node with (the Nix package's
 * bin/hail-daemon, so the NixOS module; nix/systemd/hail@.service), so the bench measures
 * the daemon as it runs. `hail` itself starts without them.
 */
export async function daemonNodeFlags(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(PACKAGE_JSON, "utf8")) as { daemonNodeFlags?: unknown };
  const flags = pkg.daemonNodeFlags;
  if (!Array.isArray(flags) || flags.length === 0 || !flags.every((f) => typeof f === "string")) {
    throw new Error(`${PACKAGE_JSON} has no daemonNodeFlags list`);
  }
  return flags as string[];
}

/** One real deployment with a one-shot run, so the daemon's passes find nothing to do. */
export async function deployOnce(world: World): Promise<void> {
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

export interface Steady {
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
  /** RSS at the end, anonymous (heaps, malloc, stacks) and file-backed (node's code), KiB */
  anonEndKiB: number;
  fileEndKiB: number;
  /** after a forced full GC at the end: RSS, JS heap, memory outside it, and V8's spaces, KiB */
  afterGc: { rssKiB: number; heapUsedKiB: number; heapTotalKiB: number; externalKiB: number; spaces: { name: string; sizeKiB: number }[] };
  exitCode: number;
}

/** The measured run at the default log level; a pass is one latest-finished request (calibrated above). */
export async function pollIdle(world: World, polls: number, nodeFlags: string[]): Promise<Steady> {
  world.hydra.resetRequests();
  const latestRequests = () => world.hydra.requests.filter((r) => r.path.endsWith("/latest-finished")).length;
  const act0 = (await world.activations()).length;
  // One file per run: the probe appends, and a second run must not read the first one's figures.
  const gcOut = path.join(world.lab.root, `gc-probe-${++gcRuns}.jsonl`);
  const env = { ...cleanNodeEnv(world.env), NODE_OPTIONS: `--import ${GC_PROBE}`, HAIL_BENCH_GC_OUT: gcOut };
  const daemon = HailDaemon.start([...world.gateArgs("myapp"), "--poll-period", PERIOD], env, nodeFlags);
  const pid = daemon.child.pid;
  if (pid === undefined) throw new Error("the daemon did not start");
  let exitCode = -1;
  try {
    // The start-up activation (README, "Safety": Crashes) and the first passes are not counted.
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
      anonEndKiB: mem1.anon,
      fileEndKiB: mem1.file,
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
  const { after, spaces } = JSON.parse(line) as { after: NodeJS.MemoryUsage; spaces: { name: string; size: number }[] };
  return {
    rssKiB: after.rss / 1024, heapUsedKiB: after.heapUsed / 1024, heapTotalKiB: after.heapTotal / 1024, externalKiB: after.external / 1024,
    spaces: spaces.filter((sp) => sp.size > 0).map((sp) => ({ name: sp.name.replace(/_space$/, ""), sizeKiB: sp.size / 1024 })),
  };
}

function idleSection(target: number, cal: Calibration, s: Steady, shipped: { flags: string[]; steady: Steady }): Section {
  const mib = (kib: number) => kib / 1024;
  const t = shipped.steady;
  const rss = mib(t.rssEndKiB);
  const cpu = t.cpuMs / t.polls;
  const met = (ok: boolean) => (ok ? "MET" : "NOT MET");
  return {
    title: `Daemon idle cost: dist/hail.mjs --poll-period ${PERIOD}, ${t.polls} idle polls after start-up`,
    rows: [
      { label: "HTTP requests per idle poll", value: (t.requests / t.polls).toFixed(3), raw: t.requests / t.polls,
        note: `${t.requests} requests / ${t.polls} polls; exact count at debug level: ${cal.requests} / ${cal.passes} passes = ${(cal.requests / cal.passes).toFixed(3)}` },
      { label: "subprocesses per idle poll", value: ((t.nixCalls + t.activations) / t.polls).toFixed(3), raw: (t.nixCalls + t.activations) / t.polls,
        note: `nix commands ${t.nixCalls}, activations ${t.activations} (debug run: nix ${cal.nixCalls}, activations ${cal.activations}, the one at start-up included)` },
      { label: "CPU per idle poll, daemon as shipped", value: formatMs(cpu), raw: cpu,
        note: `target ≤ ${IDLE_CPU_TARGET_MS} ms: ${met(cpu <= IDLE_CPU_TARGET_MS)}; ${Math.round(t.cpuMs)} ms user+system over ${t.seconds.toFixed(1)} s (${Math.round(t.polls / t.seconds)} polls/s); ` +
          `node's default flags: ${formatMs(s.cpuMs / s.polls)}` },
      { label: "RSS after the idle polls, daemon as shipped", value: `${rss.toFixed(1)} MiB`, raw: rss,
        note: `node ${shipped.flags.join(" ")} (package.json's daemonNodeFlags: the daemon's units, hail-daemon); target ≤ ${IDLE_RSS_TARGET_MIB} MiB: ${met(rss <= IDLE_RSS_TARGET_MIB)}; ` +
          `stretch ≤ ${IDLE_RSS_STRETCH_MIB} MiB: ${rss <= IDLE_RSS_STRETCH_MIB ? "MET" : "not met"}; after start-up ${mib(t.rssStartKiB).toFixed(1)} MiB, peak ${mib(t.peakKiB).toFixed(1)} MiB` },
      { label: "RSS after the idle polls, node's default flags", value: `${mib(s.rssEndKiB).toFixed(1)} MiB`, raw: mib(s.rssEndKiB),
        note: `baseline: \`node dist/hail.mjs\`, as \`hail\` starts a daemon by hand; after start-up ${mib(s.rssStartKiB).toFixed(1)} MiB, peak ${mib(s.peakKiB).toFixed(1)} MiB` },
    ],
    lines: [
      `RSS (MiB) after each tenth of the polls, as shipped: ${t.rssTrend.map((k) => mib(k).toFixed(0)).join(" ")}; node's default flags: ${s.rssTrend.map((k) => mib(k).toFixed(0)).join(" ")}`,
      ...[["as shipped", t], ["node's default flags", s] as const].map(([name, run]) => whereItGoes(name as string, run as Steady)),
      "(the daemon runs with a small --import probe that forces a full GC on SIGUSR2 and reports the heap)",
      `polls measured ${t.polls} and ${s.polls} (asked ${target}); the daemons exited ${t.exitCode} and ${s.exitCode} on SIGTERM.`,
      "At a 5 m period the CPU figure is the cost of one pass every 5 minutes.",
    ],
  };
}

/** RSS split into what the kernel and V8 can each tell: file-backed code, V8's heap spaces, the rest. */
function whereItGoes(name: string, run: Steady): string {
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  const g = run.afterGc;
  const spaces = g.spaces.map((sp) => `${sp.name} ${mib(sp.sizeKiB)}`).join(", ");
  return `where it goes, ${name}: RSS ${mib(run.rssEndKiB)} MiB = file-backed ${mib(run.fileEndKiB)} (node's own code) + anonymous ${mib(run.anonEndKiB)}; ` +
    `after a full GC: RSS ${mib(g.rssKiB)}, JS heap committed ${mib(g.heapTotalKiB)} (${spaces}), live ${mib(g.heapUsedKiB)}; ` +
    `outside the JS heap about ${mib(g.rssKiB - g.heapTotalKiB - run.fileEndKiB)} MiB anonymous (malloc, V8's metadata, thread stacks; external buffers ${mib(g.externalKiB)} of it)`;
}
