// Staged rollout (--rollout-window): where hail's hash puts each host in the window, computed
// with rolloutNotBefore for many keys, and what a short simulated rollout actually did.
import { rolloutFraction, rolloutNotBefore } from "../../src/resolve/rollout.js";
import type { FleetRun } from "./fleet.js";
import type { Section } from "./report.js";
import { bar, bucketCounts, formatMs, median, quantile } from "./stats.js";

const HOUR_MS = 3_600_000;
const GATE_ID = 4242;

function keys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `host-${String(i).padStart(4, "0")}`);
}

/** A 1 h window over `hosts` keys: deployments per 6-minute tenth, and when 10/50/90 % may deploy. */
export function rolloutSpreadSection(hosts: number): Section {
  const policyFor = (key: string) => ({ windowMs: HOUR_MS, key });
  // stoptime 0: the offsets are the times after the gate build finished.
  const offsets = keys(hosts).map((key) => rolloutNotBefore(policyFor(key), GATE_ID, 0));
  const tenths = bucketCounts(offsets, HOUR_MS / 10, 0, HOUR_MS);
  const most = Math.max(...tenths);
  const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
  const firstTenth = (gateId: number) => new Set(keys(hosts).filter((k) => rolloutFraction(k, gateId) < 0.1));
  const a = firstTenth(GATE_ID);
  const b = firstTenth(GATE_ID + 1);
  const again = [...a].filter((k) => b.has(k)).length;
  return {
    title: `Rollout spread: --rollout-window 1h, ${hosts} keys, gate build ${GATE_ID} (rolloutNotBefore, no polling)`,
    rows: [
      { label: "10 % of hosts may deploy by", value: minutes(quantile(offsets, 0.1)), raw: quantile(offsets, 0.1) },
      { label: "50 % of hosts may deploy by", value: minutes(quantile(offsets, 0.5)), raw: quantile(offsets, 0.5) },
      { label: "90 % of hosts may deploy by", value: minutes(quantile(offsets, 0.9)), raw: quantile(offsets, 0.9) },
      { label: "first tenth again first next build", value: `${again} / ${a.size}`, raw: again,
        note: `hosts in the first 6 min for build ${GATE_ID} and for ${GATE_ID + 1} (about ${Math.round(a.size / 10)} if independent)` },
    ],
    lines: [
      "hosts whose turn comes in each 6-minute tenth of the window:",
      ...tenths.map((n, i) => `${String(i * 6).padStart(2)}–${String((i + 1) * 6).padStart(2)} min ${String(n).padStart(4)} ${bar(n, most, 30)}`),
      "Each host deploys at its first poll after its turn: add up to one poll period to these times.",
    ],
  };
}

/** The simulated rollout: deployments per second after the gate build's stoptime, and how late each host was. */
export function rolloutRunSection(run: FleetRun, windowMs: number, periodMs: number): Section {
  const start = run.rolloutStartMs;
  const agents = run.keys.length;
  if (start === null) throw new Error("the rollout run offered no build");
  const deployed = run.deployedAt.flatMap((t) => (t === null ? [] : [t - start]));
  const lateness = run.deployedAt.flatMap((t, i) => {
    const key = run.keys[i];
    if (t === null || key === undefined) return [];
    return [t - start - rolloutNotBefore({ windowMs, key }, run.rolloutGateId, 0)];
  });
  const seconds = Math.ceil((windowMs + 2 * periodMs) / 1000);
  const perSecond = bucketCounts(deployed, 1000, 0, seconds * 1000);
  const most = Math.max(1, ...perSecond);
  return {
    title: `Simulated rollout: ${agents} agents, --rollout-window ${windowMs / 1000}s, --poll-period ${periodMs / 1000}s ±10 %`,
    rows: [
      { label: "deployed", value: `${deployed.length} / ${agents}`, raw: deployed.length, note: `${run.errors} errors` },
      { label: "10 % / 50 % / 90 % deployed by", value: [0.1, 0.5, 0.9].map((q) => formatMs(quantile(deployed, q))).join(" / "),
        raw: quantile(deployed, 0.5), note: "after the gate build's stoptime" },
      { label: "deployed after its turn, median", value: formatMs(median(lateness)), raw: median(lateness),
        note: `max ${formatMs(Math.max(...lateness))} (a host acts at its first poll after its turn)` },
      { label: "requests in the whole run", value: String(run.requestTimes.length), raw: run.requestTimes.length,
        note: `${run.passes} passes: the new build costs 3 requests once per host, then 1 per poll` },
    ],
    lines: [
      "deployments per second after stoptime:",
      ...perSecond.map((n, s) => `${String(s).padStart(3)} s ${String(n).padStart(4)} ${bar(n, most, 30)}`),
    ],
  };
}
