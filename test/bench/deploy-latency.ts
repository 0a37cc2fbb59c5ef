// Deploy latency: a daemon polling every second; the test server starts to offer a newer
// green gate build, and the clock runs until the new generation's bin/activate starts (the
// activation writes `date +%s%N` first). The apps are real store paths in the lab's binary
// cache, deleted locally, so each sample includes a real substitution and profile switch.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { HailDaemon, runHail } from "../support/cli.js";
import { createWorld, greenGate, loggedActivation, publishedApps, type World } from "../e2e/world.js";
import { cleanNodeEnv, sleep, waitFor } from "./proc.js";
import type { Section } from "./report.js";
import { formatMs, median } from "./stats.js";

const PERIOD = "1s";

interface Sample {
  /** offer → activation start */
  totalMs: number;
  /** offer → the daemon's "deploying build" log line (waiting for the next poll + resolving) */
  noticedMs: number | null;
}

export async function measureDeployLatency(samples: number): Promise<Section> {
  const world = await createWorld();
  const startsFile = path.join(world.lab.root, "activation-starts");
  try {
    const apps = await prepareApps(world, samples);
    const env = { ...cleanNodeEnv(world.env), HAIL_BENCH_ACTIVATION_STARTS: startsFile };
    const daemon = HailDaemon.start([...world.gateArgs("myapp"), "--poll-period", PERIOD], env);
    const measured: Sample[] = [];
    let nixCalls: string[] = [];
    try {
      await daemon.waitFor(/hail started/, "the daemon's start");
      const before = (await world.nixCalls()).length;
      for (const [i, app] of apps.entries()) {
        // A random phase against the daemon's polls (about 1 s apart), as a real offer has.
        await sleep(100 + Math.random() * 2000);
        measured.push(await offerAndTime(world, daemon, startsFile, app, i));
      }
      nixCalls = (await world.nixCalls()).slice(before);
    } finally {
      await daemon.stop("SIGTERM");
    }
    return latencySection(measured, nixCalls);
  } finally {
    await world.close();
  }
}

/** One deployed base version, and `count` newer versions in the cache whose activation stamps its start. */
async function prepareApps(world: World, count: number): Promise<string[]> {
  const stamp = loggedActivation('date +%s%N >> "$HAIL_BENCH_ACTIVATION_STARTS"');
  const specs = Array.from({ length: count }, (_, i) => ({ name: "myapp", version: `2.${i}`, activate: stamp }));
  const [base, ...apps] = await publishedApps(world.lab, { name: "myapp", version: "1.0" }, ...specs);
  if (base === undefined) throw new Error("the lab built no app");
  for (const b of greenGate(100, 10, base)) world.hydra.addBuild(b);
  const r = await runHail([...world.gateArgs("myapp"), "--oneshot"], cleanNodeEnv(world.env));
  if (r.code !== 0) throw new Error(`the first deployment failed (exit ${r.code}):\n${r.stderr}`);
  return apps;
}

async function offerAndTime(world: World, daemon: HailDaemon, startsFile: string, app: string, i: number): Promise<Sample> {
  const gateId = 200 + 10 * i;
  const buildId = gateId + 1;
  const builds = greenGate(gateId, 20 + i, app);
  const offeredAt = Date.now();
  for (const b of builds) world.hydra.addBuild(b);
  await waitFor(async () => (await startTimes(startsFile)).length > i, `activation of build ${buildId}`, 60_000, 10);
  const started = (await startTimes(startsFile))[i] ?? NaN;
  await daemon.waitFor(new RegExp(`"deployed build ${buildId}"`), `build ${buildId} deployed`);
  return { totalMs: started - offeredAt, noticedMs: loggedAt(daemon, `deploying build ${buildId} `) - offeredAt };
}

/** The activation's `date +%s%N` stamps, as epoch milliseconds. */
async function startTimes(file: string): Promise<number[]> {
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").filter(Boolean).map((ns) => Number(BigInt(ns) / 1000n) / 1000);
}

/** When the daemon logged a line starting with `prefix` (tslog's JSON `_meta.date`), or NaN. */
function loggedAt(daemon: HailDaemon, prefix: string): number {
  for (const line of daemon.logLines()) {
    const msg = line["msg"];
    const meta = line["_meta"];
    if (typeof msg !== "string" || !msg.startsWith(prefix) || typeof meta !== "object" || meta === null) continue;
    const date = (meta as Record<string, unknown>)["date"];
    if (typeof date === "string") return Date.parse(date);
  }
  return NaN;
}

function latencySection(samples: Sample[], nixCalls: string[]): Section {
  const totals = samples.map((s) => s.totalMs);
  const noticed = samples.map((s) => s.noticedMs).filter((n): n is number => n !== null && Number.isFinite(n));
  const rest = samples.flatMap((s) => (s.noticedMs !== null && Number.isFinite(s.noticedMs) ? [s.totalMs - s.noticedMs] : []));
  return {
    title: `Deploy latency: --poll-period ${PERIOD}, ${samples.length} new gate builds, offer → activation start`,
    rows: [
      { label: "offer → activation start", value: formatMs(median(totals)), raw: median(totals),
        note: `min ${formatMs(Math.min(...totals))}, max ${formatMs(Math.max(...totals))}` },
      { label: "  offer → \"deploying\" logged", value: formatMs(median(noticed)), raw: median(noticed),
        note: "waiting for the next poll (0–1.1 s, about 0.55 s on average) and 3 requests" },
      { label: "  \"deploying\" → activation start", value: formatMs(median(rest)), raw: median(rest),
        note: "nix-store --realise (substitution from the local cache) and nix-env --set" },
    ],
    lines: [
      `samples (ms): ${totals.map((t) => Math.round(t)).join(", ")}`,
      `nix commands per deployment: ${(nixCalls.length / samples.length).toFixed(1)} (${[...new Set(nixCalls.map((c) => c.split(" ").slice(0, 2).join(" ")))].join(", ")})`,
    ],
  };
}
