// `npm run bench`: how fast hail starts, what an idle daemon costs, how soon a new gate build
// is deployed, and how a fleet loads Hydra. A benchmark, not a test: it prints a table (and
// with --json FILE saves the numbers); every figure is measured in the same run as its
// baseline. Everything runs against the local Hydra test server on 127.0.0.1 and, where
// deployments are involved, the real Nix lab in a temporary directory.
//
//   node --import tsx test/bench/bench.ts [--quick] [--json FILE] [--only cold,idle,latency,fleet,plan,proxy,big,bluegreen]
//                                         [--fleet-period SECONDS]
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { parseArgs } from "node:util";
import { measureBigBody } from "./big-body.js";
import { measureBlueGreen } from "./blue-green.js";
import { measureColdStart } from "./cold-start.js";
import { measureDeployLatency } from "./deploy-latency.js";
import { measureFleet } from "./fleet.js";
import { measureIdleDaemon } from "./idle-daemon.js";
import { measurePlanFleet } from "./plan-fleet.js";
import { measureProxyCache } from "./proxy-cache.js";
import { nixAvailable } from "../support/nix-lab.js";
import { cleanNodeEnv, sameNodeForShebang } from "./proc.js";
import { renderReport, skippedSection, type Report, type Section } from "./report.js";
import { rolloutSpreadSection } from "./rollout-spread.js";

const SECTIONS = ["cold", "idle", "latency", "fleet", "plan", "proxy", "big", "bluegreen"] as const;
type SectionName = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "string" },
    only: { type: "string" },
    "fleet-period": { type: "string", default: "2" },
  },
});
const quick = values.quick === true;
const only = new Set<SectionName>(
  values.only === undefined ? SECTIONS : values.only.split(",").map((s) => {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section "${s}" (one of ${SECTIONS.join(", ")})`);
    return s as SectionName;
  }),
);

const fleetPeriodMs = Number(values["fleet-period"]) * 1000;
if (!(fleetPeriodMs > 0)) throw new Error(`--fleet-period: expected seconds, got "${values["fleet-period"]}"`);

/** Sizes of the full run and of --quick. */
const SIZE = quick
  ? { coldRuns: 20, idlePolls: 2_000, latencySamples: 5, fleetAgents: 1_000, fleetSeconds: 10, rolloutAgents: 200, planTargets: 1_000, bigRuns: 3, switchLoad: { ratePerSecond: 200, seconds: 5 } }
  : { coldRuns: 25, idlePolls: 10_000, latencySamples: 10, fleetAgents: 1_000, fleetSeconds: 16, rolloutAgents: 200, planTargets: 1_000, bigRuns: 7, switchLoad: { ratePerSecond: 200, seconds: 10 } };

async function main(): Promise<void> {
  const started = Date.now();
  const report: Report = {
    startedAt: new Date().toISOString(),
    command: ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    machine: `${await sameNodeForShebang(cleanNodeEnv())}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? "?"}), ${os.platform()} ${os.release()}, load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
    sections: [],
  };
  const nix = await nixAvailable();
  const run = async (name: SectionName, title: string, measure: () => Promise<Section | Section[]>, needsNix = false) => {
    if (!only.has(name)) return;
    if (needsNix && !nix) return void report.sections.push(skippedSection(title, "Nix is not installed (nix-build, nix-store, nix-env, nix)"));
    progress(`${title} …`);
    const t = Date.now();
    try {
      const result = await measure();
      report.sections.push(...(Array.isArray(result) ? result : [result]));
    } catch (err) {
      report.sections.push(skippedSection(title, `failed: ${err instanceof Error ? err.message : String(err)}`));
    }
    progress(`${title}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  };
  await run("cold", "Cold start", () => measureColdStart(SIZE.coldRuns));
  await run("idle", "Daemon idle cost", () => measureIdleDaemon(SIZE.idlePolls), true);
  await run("latency", "Deploy latency", () => measureDeployLatency(SIZE.latencySamples), true);
  await run("fleet", "Fleet simulation", async () => [
    ...(await measureFleet({ agents: SIZE.fleetAgents, periodMs: fleetPeriodMs, seconds: SIZE.fleetSeconds, rolloutAgents: SIZE.rolloutAgents })),
    rolloutSpreadSection(1_000),
  ]);
  await run("plan", "hail plan --config at fleet size", () => measurePlanFleet(SIZE.planTargets));
  await run("proxy", "Fleet through an nginx cache", () => measureProxyCache(SIZE.fleetAgents, fleetPeriodMs, SIZE.fleetSeconds));
  await run("big", "A million evaluation ids", () => measureBigBody(SIZE.bigRuns));
  await run("bluegreen", "Blue-green vs stop-then-start under load", () => measureBlueGreen(SIZE.switchLoad), true);
  progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(renderReport(report));
  if (values.json !== undefined) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
}

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

await main();
