// Makes nix/grafana/hail-dashboard.png, the README's picture of the fleet dashboard: the
// dashboard's own queries (read from hail-dashboard.json), run by a real Prometheus over
// metrics from the bench's fleet simulation, drawn with gnuplot.
//
//   node --import tsx test/bench/dashboard-picture.ts [OUT.png]
//
// Needs Debian's prometheus (prometheus and promtool) and gnuplot-nox. The fleet: 200 agents
// running hail's real loop and decide() against the Hydra test server, a new gate build
// offered with --rollout-window; one simulated second is three minutes in the picture. Every
// 40th host is made to fail the new build (an activation failure, rolled back), so the
// failure panels have something to show. Each host's passes go through accountPass and
// renderMetrics, as the daemon's do; Prometheus gets them by backfill
// (promtool tsdb create-blocks-from openmetrics).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../support/free-port.js";
import { execa } from "execa";
import { accountPass, type PassRecord } from "../../src/metrics/account.js";
import { renderMetrics } from "../../src/metrics/exposition.js";
import { MetricsStateSchema, type MetricsState } from "../../src/state/schema.js";
import { DASHBOARD_FILE, plainPromQL } from "../metrics/dashboard-queries.js";
import { simulateFleet, type FleetRun } from "./fleet.js";

const OUT = process.argv[2] ?? fileURLToPath(new URL("../../nix/grafana/hail-dashboard.png", import.meta.url));
const AGENTS = 200;
const PERIOD_MS = 1_000;
const WINDOW_MS = 12_000;
const OFFER_AT_MS = 4_000;
const DURATION_MS = 22_000;
/** one simulated second is this many seconds in the picture (a 1 s poll period reads as 3 min) */
const SCALE = 180;
const SCRAPE_S = 30;
const STEP_S = 180;
const OLD_BUILD = 101;
const NEW_BUILD = 201;
const failsNewBuild = (i: number) => i % 40 === 7;

/** The panels drawn, by title in the dashboard, and what each target is called in the picture. */
const PANELS = [
  "Staged rollout: hosts on the newest build",
  "Hosts behind, by profile",
  "Hosts per deployed build",
  "Deployments, failures and rollbacks",
];

interface Panel { title: string; targets: { expr: string; legendFormat?: string }[] }

/** OpenMetrics text for the whole run: each host's exposition at every scrape, with the scrape's labels. */
function exposition(run: FleetRun, start: number): string {
  const series = new Map<string, string[]>();
  const scrapes = Math.floor((DURATION_MS / 1000) * SCALE / SCRAPE_S);
  for (let i = 0; i < AGENTS; i += 1) {
    let m: MetricsState = MetricsStateSchema.parse({ upToDate: true, lastCheckAt: null, lastSuccessAt: null, deployments: { success: 0, failed: 0 }, rollbacks: 0, errors: {} });
    let build = OLD_BUILD;
    let moved = false;
    for (let k = 0; k <= scrapes; k += 1) {
      const t = k * SCRAPE_S;
      const simMs = (t / SCALE) * 1000;
      const at = new Date((start + Math.floor(t / (PERIOD_MS / 1000 * SCALE)) * (PERIOD_MS / 1000) * SCALE) * 1000).toISOString();
      const deployedAt = run.deployedAt[i] ?? null;
      const offered = run.rolloutStartMs !== null && simMs >= run.rolloutStartMs;
      let pass: PassRecord;
      if (!moved && deployedAt !== null && deployedAt <= simMs) {
        moved = true;
        pass = failsNewBuild(i) ? { kind: "failed", errorKind: "activation", rolledBack: true } : { kind: "deployed" };
        if (!failsNewBuild(i)) build = NEW_BUILD;
      } else {
        pass = { kind: "unchanged", upToDate: !offered || (moved && !failsNewBuild(i)) };
      }
      m = accountPass(m, pass, at);
      const instance = run.keys[i] ?? `host-${i}`;
      for (const line of renderMetrics([{ profile: "myapp", metrics: m, deployedBuildId: build }]).split("\n")) {
        const sample = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
        if (!sample) continue;
        const key = `${sample[1]}{${sample[2]},instance="${instance}",job="hail"}`;
        let row = series.get(key);
        if (row === undefined) series.set(key, (row = []));
        row.push(`${key} ${sample[3]} ${start + t}`);
      }
    }
  }
  // OpenMetrics wants each family's samples together.
  const keys = [...series.keys()].sort();
  return `${keys.flatMap((k) => series.get(k) ?? []).join("\n")}\n# EOF\n`;
}


interface Series { legend: string; points: Map<number, number> }

async function queryRange(url: string, expr: string, legendFormat: string, start: number, end: number): Promise<Series[]> {
  const q = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(STEP_S) });
  const res = await fetch(`${url}/api/v1/query_range?${q.toString()}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  if (body.status !== "success") throw new Error(`${expr}: ${body.error ?? res.status}`);
  return body.data.result.map((r) => ({
    legend: legendFormat.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l: string) => r.metric[l] ?? ""),
    points: new Map(r.values.map(([t, v]) => [Math.round((t - start) / 60), Number(v)])),
  }));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hail-picture-"));
  let prometheus: ReturnType<typeof spawn> | null = null;
  try {
    process.stderr.write(`simulating ${AGENTS} agents for ${DURATION_MS / 1000} s …\n`);
    const run = await simulateFleet({ agents: AGENTS, periodMs: PERIOD_MS, jitter: 0.1, startSpreadMs: PERIOD_MS, durationMs: DURATION_MS, rollout: { windowMs: WINDOW_MS, offerAtMs: OFFER_AT_MS } });
    const span = Math.floor((DURATION_MS / 1000) * SCALE);
    const start = Math.floor(Date.now() / 1000) - span - 3600;
    await writeFile(path.join(dir, "fleet.om"), exposition(run, start));
    await execa("promtool", ["tsdb", "create-blocks-from", "openmetrics", path.join(dir, "fleet.om"), path.join(dir, "data")]);
    await writeFile(path.join(dir, "prometheus.yml"), "global: {}\n");
    const port = await freePort();
    prometheus = spawn("prometheus", [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`,
      "--storage.tsdb.retention.time=100y", `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200 && !(await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)); i += 1) await new Promise((r) => setTimeout(r, 100));
    const dashboard = JSON.parse(await readFile(DASHBOARD_FILE, "utf8")) as { panels: Panel[] };
    const plots: string[] = [];
    for (const [n, title] of PANELS.entries()) {
      const panel = dashboard.panels.find((p) => p.title === title);
      if (!panel) throw new Error(`no panel "${title}" in ${DASHBOARD_FILE}`);
      const series: Series[] = [];
      for (const t of panel.targets) {
        const expr = plainPromQL(t.expr).replace(/\[5m\]/g, `[${STEP_S}s]`);
        series.push(...(await queryRange(url, expr, t.legendFormat ?? "", start, start + span)));
      }
      const times = [...new Set(series.flatMap((s) => [...s.points.keys()]))].sort((a, b) => a - b);
      const data = path.join(dir, `panel${n}.dat`);
      await writeFile(data, times.map((t) => [t, ...series.map((s) => s.points.get(t) ?? "NaN")].join(" ")).join("\n"));
      const bars = title.startsWith("Deployments");
      // dash types apart, so series that coincide (failed and rolled back) both show
      const using = series.map((s, i) => `'${data}' using 1:${i + 2} with ${bars ? "steps" : "lines"} lw 2 dt ${i + 1} title '${s.legend.replace(/'/g, "")}'`);
      plots.push(`set title '${title}'\nplot ${using.join(", ")}`);
    }
    const script = [
      `set terminal pngcairo size 1100,640 font 'DejaVu Sans,9'`,
      `set output '${OUT}'`,
      `set multiplot layout 2,2 title 'hail fleet dashboard: ${AGENTS} simulated hosts, --rollout-window ${(WINDOW_MS / 1000) * SCALE / 60} min (npm run bench fleet simulation)'`,
      "set xlabel 'minutes'", "set key right center", "set grid", "set xrange [0:*]", "set yrange [0:*]",
      ...plots,
      "unset multiplot",
    ].join("\n");
    await execa("gnuplot", [], { input: script });
    process.stderr.write(`wrote ${OUT}\n`);
  } finally {
    if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
      const exited = once(prometheus, "exit");
      process.kill(prometheus.pid, "SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
