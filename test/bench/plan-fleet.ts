// `hail plan --config FILE` at fleet size: one config file with N targets behind one gate,
// planned by the built CLI against the Hydra test server, timed from spawn to exit, with the
// requests the server saw. The baseline in the same run is the same number of targets each
// behind a gate of its own, where no answer can be shared: what every target cost before
// plan shared a gate's requests (3 per target).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { HAIL_BIN } from "../support/cli.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { greenGate } from "../e2e/world.js";
import { cleanNodeEnv, timedRun } from "./proc.js";
import type { Section } from "./report.js";
import { formatMs, formatRatio } from "./stats.js";

const APP_PATH = "/nix/store/7xk3w8lbc6r1hzz4q3f0d4c9m2i5y1a0-myapp-1.0";

export interface PlanFleetRun {
  targets: number;
  ms: number;
  /** Hydra API requests (latest-finished, builds, constituents) */
  apiRequests: number;
  /** narinfo requests to the binary cache (plan's download sizes) */
  cacheRequests: number;
  /** targets the output reports, and how many of them would deploy */
  planned: number;
  deploy: number;
}

/** `gates`: how many distinct gate jobs the targets are spread over (1: all behind one gate). */
export async function planFleet(targets: number, gates: number): Promise<PlanFleetRun> {
  const hydra = await HydraTestServer.start();
  const dir = await mkdtemp(path.join(os.tmpdir(), "hail-bench-plan-"));
  try {
    for (let g = 0; g < gates; g += 1) {
      for (const b of greenGate(100 + g * 10, 10 + g, APP_PATH)) hydra.addBuild({ ...b, jobset: `set${g}` });
    }
    const config = {
      profilesDir: path.join(dir, "profiles"),
      stateDir: path.join(dir, "state"),
      targets: Array.from({ length: targets }, (_, i) => ({
        profile: `app${String(i).padStart(5, "0")}`,
        gateJob: `${hydra.url}/job/myproject/set${i % gates}/release_gate`,
        constituent: "myapp",
      })),
    };
    const file = path.join(dir, "hail.json");
    await writeFile(file, JSON.stringify(config));
    // Nix's configuration as hail reads it (for the download sizes) points at the test server.
    const env = { ...cleanNodeEnv(), HOME: dir, XDG_CONFIG_HOME: dir, NIX_CONF_DIR: dir, NIX_CONFIG: `substituters = ${hydra.url}` };
    const r = await timedRun(process.execPath, [HAIL_BIN, "plan", "--config", file, "--json"], env);
    if (r.code !== 0 && r.code !== 2) throw new Error(`hail plan --config: exit ${String(r.code)}\n${r.stderr.slice(-2000)}`);
    const plan = JSON.parse(r.stdout) as { targets: { action?: string }[] };
    const paths = hydra.requests.map((q) => q.path);
    const cacheRequests = paths.filter((p) => p.endsWith(".narinfo")).length;
    return {
      targets, ms: r.ms, apiRequests: paths.length - cacheRequests, cacheRequests,
      planned: plan.targets.length, deploy: plan.targets.filter((t) => t.action === "deploy").length,
    };
  } finally {
    await hydra.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function measurePlanFleet(targets: number): Promise<Section> {
  const shared = await planFleet(targets, 1);
  const apart = await planFleet(targets, targets);
  for (const run of [shared, apart]) {
    if (run.planned !== targets || run.deploy !== targets) throw new Error(`plan reported ${run.planned} targets, ${run.deploy} to deploy; expected ${targets}`);
  }
  const row = (label: string, run: PlanFleetRun, note: string) => ({
    label, value: formatMs(run.ms), raw: run.ms,
    note: `${run.apiRequests} Hydra requests, ${run.cacheRequests} narinfo requests${note}`,
  });
  return {
    title: `hail plan --config with ${targets} targets, spawn to exit (every target would deploy)`,
    rows: [
      row(`${targets} targets behind one gate`, shared, ""),
      row(`${targets} targets, a gate each (baseline)`, apart, " (nothing to share: 3 per target, as before sharing)"),
      { label: "ratio baseline / one gate", value: formatRatio(apart.ms / shared.ms), raw: apart.ms / shared.ms,
        note: `requests ${formatRatio((apart.apiRequests + apart.cacheRequests) / Math.max(1, shared.apiRequests + shared.cacheRequests))}` },
    ],
  };
}
