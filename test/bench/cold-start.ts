// Cold start: `hail plan` against the local Hydra test server, next to the same resolution by
// hand with curl and jq, and next to an empty Node process. Every command runs once per
// round, in the same order, so a slow moment of the machine hits all of them alike.
import { mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { HAIL_BIN } from "../support/cli.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { greenGate } from "../e2e/world.js";
import { daemonNodeFlags } from "./idle-daemon.js";
import { cleanNodeEnv, timedRun } from "./proc.js";
import type { Section } from "./report.js";
import { formatMs, formatRatio, median, quantile } from "./stats.js";

const APP_PATH = "/nix/store/7xk3w8lbc6r1hzz4q3f0d4c9m2i5y1a0-myapp-1.0";
/** Within 2.5× of curl | jq, aiming for 2× (issue 21, on Node 24; it was 3× and 2.5× on Node 20). */
export const COLD_START_TARGET = 2.5;
export const COLD_START_STRETCH = 2;

interface Contender {
  label: string;
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** what stdout must contain, so a broken command cannot look fast */
  expect: string;
}

export async function measureColdStart(runs: number): Promise<Section> {
  const hydra = await HydraTestServer.start();
  const dir = await mkdtemp(path.join(os.tmpdir(), "hail-bench-cold-"));
  try {
    for (const b of greenGate(100, 10, APP_PATH)) hydra.addBuild(b);
    const gateUrl = `${hydra.url}/job/myproject/main/release_gate`;
    const contenders = await contendersFor(gateUrl, hydra.url, dir);
    const samples = new Map<string, number[]>(contenders.map((c) => [c.label, []]));
    const requests = new Map<string, string[]>();
    // Two warm-up rounds fill the page cache; they are not counted.
    for (let round = -2; round < runs; round += 1) {
      for (const c of contenders) {
        hydra.resetRequests();
        const r = await timedRun(c.file, c.args, c.env);
        if (round === -2) requests.set(c.label, hydra.requests.map((q) => q.path.replace(/.*\//, "/")));
        if (r.code !== 0 || !r.stdout.includes(c.expect)) {
          throw new Error(`${c.label}: exit ${r.code}, expected "${c.expect}" on stdout; got:\n${r.stdout}\n${r.stderr}`);
        }
        if (round >= 0) samples.get(c.label)?.push(r.ms);
      }
    }
    const seen = [PLAN_PENDING, PLAN_CURRENT, BY_HAND].map((l) => `${l.replace(/ \(.*/, "")}: ${(requests.get(l) ?? []).join(" ")}`);
    return coldStartSection(samples, runs, ["requests the server saw:", ...seen.map((l) => `  ${l}`), ...extraCertsNote()]);
  } finally {
    await hydra.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const PLAN_PENDING = "hail plan --json, deploy pending (4 requests)";
const PLAN_CURRENT = "hail plan --json, up to date (3 requests)";
const BY_HAND = "curl -sL | jq by hand (3 requests)";
const NODE_BARE = "node -e 0";
const PLAN_SHIPPED = "hail plan --json, up to date, run as `hail` (dist/hail.mjs by its shebang)";
const PLAN_DAEMON_FLAGS = "hail plan --json, up to date, with the daemon's node flags";
const PLAN_NO_CACHE = "hail plan --json, up to date, no code cache";
const HELP = "hail --help (bundle load only)";
const HELP_NO_CACHE = "hail --help, no code cache";

/**
 * `dir` holds two profiles: "absent" (none yet, so plan previews the download: one narinfo
 * request to the configured cache, here the test server) and "current" (a link to the
 * gate's constituent, so plan has nothing to preview, and does the resolution only).
 */
async function contendersFor(gateUrl: string, baseUrl: string, dir: string): Promise<Contender[]> {
  await symlink(APP_PATH, path.join(dir, "current"));
  // Nix's configuration as hail reads it (for plan's narinfo preview) lives in `dir` too.
  const env = { ...cleanNodeEnv(), HOME: dir, XDG_CONFIG_HOME: dir, XDG_CACHE_HOME: path.join(dir, "cache"), NIX_CONF_DIR: dir, NIX_CONFIG: `substituters = ${baseUrl}` };
  const noCache = { ...env, XDG_CACHE_HOME: "/proc/hail-bench-no-cache" };
  const node = process.execPath;
  const plan = (profile: string) => [HAIL_BIN, "plan", "--gate-job", gateUrl, "--constituent", "myapp", "--profile", profile,
    "--profiles-dir", dir, "--state-dir", dir, "--json"];
  // By hand: follow latest-finished to the gate build, then pick the constituent's output.
  const byHand = [
    `id=$(curl -sfL -H 'Accept: application/json' '${gateUrl}/latest-finished' | jq -er .id)`,
    `curl -sf -H 'Accept: application/json' "${baseUrl}/build/$id/constituents" | jq -er '.[] | select(.job == "myapp") | .buildoutputs.out.path'`,
  ].join(" && ");
  const oneFetch = `const r = await fetch(process.argv[1], { redirect: "manual", headers: { accept: "application/json" } }); await r.text(); console.log(r.status)`;
  const oneHttpGet = `import http from "node:http"; http.get(process.argv[1], { headers: { accept: "application/json" } }, (r) => { r.resume(); r.on("end", () => console.log(r.statusCode)); })`;
  // What importing ky costs by itself: it builds a Request at load, and the first touch of
  // Request/Headers/Response loads undici, whose module start compiles its WebAssembly parser.
  const undiciLoad = `new Headers(); console.log("loaded")`;
  const contenders: Contender[] = [
    { label: PLAN_PENDING, file: node, args: plan("absent"), env, expect: '"action": "deploy"' },
    { label: PLAN_CURRENT, file: node, args: plan("current"), env, expect: '"action": "none"' },
    { label: BY_HAND, file: "sh", args: ["-c", byHand], env, expect: APP_PATH },
    { label: NODE_BARE, file: node, args: ["-e", "0"], env, expect: "" },
    { label: HELP, file: node, args: [HAIL_BIN, "--help"], env, expect: "Usage: hail" },
    // V8's code cache (src/compile-cache.ts) is under `dir` (XDG_CACHE_HOME), written by the warm-up
    // rounds; here none can be read or written (what a host without a cache place pays).
    { label: PLAN_NO_CACHE, file: node, args: plan("current"), env: noCache, expect: '"action": "none"' },
    { label: HELP_NO_CACHE, file: node, args: [HAIL_BIN, "--help"], env: noCache, expect: "Usage: hail" },
    // As an operator runs it: the bundle started by its shebang line (`#!/usr/bin/env node`).
    { label: PLAN_SHIPPED, file: HAIL_BIN, args: plan("current").slice(1), env, expect: '"action": "none"' },
    // What it would cost with the daemon's memory flags, which `hail` started with before:
    // V8 flags on the command line make V8 refuse the code cache Node ships for its own
    // modules, so they are compiled again.
    { label: PLAN_DAEMON_FLAGS, file: node, args: [...(await daemonNodeFlags()), ...plan("current")], env, expect: '"action": "none"' },
    { label: "node: one fetch() request", file: node, args: ["--input-type=module", "-e", oneFetch, `${gateUrl}/latest-finished`], env, expect: "302" },
    { label: "node: one node:http request", file: node, args: ["--input-type=module", "-e", oneHttpGet, `${gateUrl}/latest-finished`], env, expect: "302" },
    { label: "node: new Headers() (loads undici, as ky does)", file: node, args: ["-e", undiciLoad], env, expect: "loaded" },
  ];
  const certs = process.env["NODE_EXTRA_CA_CERTS"];
  if (certs) {
    contenders.push({ label: "hail plan up to date, NODE_EXTRA_CA_CERTS set", file: node, args: plan("current"), env: { ...env, NODE_EXTRA_CA_CERTS: certs }, expect: '"action": "none"' });
  }
  return contenders;
}

function extraCertsNote(): string[] {
  const certs = process.env["NODE_EXTRA_CA_CERTS"];
  return certs ? [`NODE_EXTRA_CA_CERTS=${certs} is set here; it is removed for every row but the last`] : [];
}

function coldStartSection(samples: Map<string, number[]>, runs: number, lines: string[]): Section {
  const med = (label: string) => median(samples.get(label) ?? []);
  const curl = med(BY_HAND);
  const node = med(NODE_BARE);
  const rows = [...samples].map(([label, ms]) => ({
    label,
    value: formatMs(median(ms)),
    raw: median(ms),
    note: `p10 ${formatMs(quantile(ms, 0.1))}, p90 ${formatMs(quantile(ms, 0.9))}`,
  }));
  for (const [label, name] of [[PLAN_CURRENT, "up to date"], [PLAN_PENDING, "deploy pending"]] as const) {
    const ratio = med(label) / curl;
    rows.push({ label: `ratio hail plan (${name}) / curl|jq`, value: formatRatio(ratio), raw: ratio,
      note: `target ≤ ${COLD_START_TARGET}×: ${ratio <= COLD_START_TARGET ? "MET" : "NOT MET"}; ` +
        `stretch ≤ ${COLD_START_STRETCH}×: ${ratio <= COLD_START_STRETCH ? "MET" : "not met"}` });
  }
  const shipped = med(PLAN_SHIPPED) / curl;
  rows.push({ label: "ratio hail plan (up to date), run as `hail` / curl|jq", value: formatRatio(shipped), raw: shipped,
    note: `target ≤ ${COLD_START_TARGET}×: ${shipped <= COLD_START_TARGET ? "MET" : "NOT MET"}; ` +
      `stretch ≤ ${COLD_START_STRETCH}×: ${shipped <= COLD_START_STRETCH ? "MET" : "not met"}` });
  const uncached = med(PLAN_NO_CACHE) / curl;
  rows.push({ label: "ratio hail plan (up to date), no code cache / curl|jq", value: formatRatio(uncached), raw: uncached,
    note: `the code cache saves plan ${formatMs(med(PLAN_NO_CACHE) - med(PLAN_CURRENT))}, --help ${formatMs(med(HELP_NO_CACHE) - med(HELP))}` });
  const flagged = med(PLAN_DAEMON_FLAGS) / curl;
  rows.push({ label: "ratio hail plan (up to date), daemon's node flags / curl|jq", value: formatRatio(flagged), raw: flagged,
    note: `the daemon's memory flags would cost every start ${formatMs(med(PLAN_DAEMON_FLAGS) - med(PLAN_CURRENT))}; only the daemon's units use them` });
  rows.push({ label: "ratio hail plan (up to date) / node -e 0", value: formatRatio(med(PLAN_CURRENT) / node), raw: med(PLAN_CURRENT) / node, note: "" });
  return {
    title: `Cold start: medians of ${runs} runs, spawn to exit`,
    rows,
    lines,
  };
}
