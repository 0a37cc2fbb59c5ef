// A gate and its constituent that each list a million evaluation ids (bodies of about 8 MB,
// under the 32 MiB cap): `hail plan --json` against the same resolution by hand with curl and
// jq, round by round in the same order, so a slow moment of the machine hits both alike. Before
// issue 29 the shared-evaluation check took hours on such bodies (Array.includes in a loop).
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { HAIL_BIN } from "../support/cli.js";
import { HydraTestServer, type FakeBuild } from "../support/hydra-server.js";
import { cleanNodeEnv, timedRun } from "./proc.js";
import type { Section } from "./report.js";
import { formatMs, formatRatio, median } from "./stats.js";

const APP_PATH = "/nix/store/7xk3w8lbc6r1hzz4q3f0d4c9m2i5y1a0-myapp-1.0";
const MILLION = 1_000_000;

function bigGate(appEvals: number[], gateEvals: number[]): FakeBuild[] {
  const base = { project: "myproject", jobset: "main", finished: true, buildstatus: 0 };
  return [
    { ...base, id: 100, job: "release_gate", jobsetevals: gateEvals, outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: [101] },
    { ...base, id: 101, job: "myapp", jobsetevals: appEvals, outputs: { out: APP_PATH } },
  ];
}

interface Contender {
  label: string;
  file: string;
  args: string[];
  /** what stdout must contain, so a broken command cannot look fast */
  expect: string;
}

export async function measureBigBody(runs: number): Promise<Section> {
  const hydra = await HydraTestServer.start();
  const dir = await mkdtemp(path.join(os.tmpdir(), "hail-bench-big-"));
  try {
    const gateEvals = Array.from({ length: MILLION }, (_, i) => i + 1);
    // shared: the constituent lists the same ids in the opposite order (the last one it checks matches first)
    for (const b of bigGate([...gateEvals].reverse(), gateEvals)) hydra.addBuild(b);
    const gateUrl = `${hydra.url}/job/myproject/main/release_gate`;
    const env = { ...cleanNodeEnv(), HOME: dir, XDG_CONFIG_HOME: dir, NIX_CONF_DIR: dir, NIX_CONFIG: "substituters =" };
    const byHand = [
      `id=$(curl -sfL -H 'Accept: application/json' '${gateUrl}/latest-finished' | jq -er .id)`,
      `curl -sf -H 'Accept: application/json' "${hydra.url}/build/$id/constituents" | jq -er '.[] | select(.job == "myapp") | .buildoutputs.out.path'`,
    ].join(" && ");
    const contenders: Contender[] = [
      { label: "hail plan --json, 1M evaluation ids each side", file: process.execPath, expect: '"action": "deploy"',
        args: [HAIL_BIN, "plan", "--gate-job", gateUrl, "--constituent", "myapp", "--profile", "absent", "--profiles-dir", dir, "--state-dir", dir, "--json"] },
      { label: "curl -sL | jq by hand, same bodies", file: "sh", args: ["-c", byHand], expect: APP_PATH },
    ];
    const samples = new Map<string, number[]>(contenders.map((c) => [c.label, []]));
    // One warm-up round, not counted.
    for (let round = -1; round < runs; round += 1) {
      for (const c of contenders) {
        const r = await timedRun(c.file, c.args, env);
        if (r.code !== 0 || !r.stdout.includes(c.expect)) throw new Error(`${c.label}: exit ${r.code}, expected "${c.expect}"; got:\n${r.stdout}\n${r.stderr}`);
        if (round >= 0) samples.get(c.label)?.push(r.ms);
      }
    }
    const [hail, hand] = contenders.map((c) => median(samples.get(c.label) ?? []));
    const ratio = (hail ?? 0) / (hand ?? 1);
    return {
      title: `A million evaluation ids (two bodies of about 8 MB): medians of ${runs} runs, spawn to exit`,
      rows: [
        ...contenders.map((c) => ({ label: c.label, value: formatMs(median(samples.get(c.label) ?? [])), raw: median(samples.get(c.label) ?? []) })),
        { label: "ratio hail plan / curl|jq", value: formatRatio(ratio), raw: ratio, note: "hail also validates both bodies against its schemas and checks the shared evaluation" },
      ],
    };
  } finally {
    await hydra.close();
    await rm(dir, { recursive: true, force: true });
  }
}
