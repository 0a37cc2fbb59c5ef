// The fleet simulation through nginx with nix/nginx/hydra-cache.conf in front of the Hydra
// test server: how many `latest-finished` requests reach Hydra when every host polls through
// a cache that keeps the redirect for a few seconds. Shared by the proxy test and the bench.
import { readFile } from "node:fs/promises";
import { HYDRA_CACHE_CONF, NginxProxy } from "../support/nginx.js";
import { simulateFleet, type FleetRun } from "./fleet.js";
import type { Section } from "./report.js";
import { formatMs, median } from "./stats.js";

export interface ProxiedFleet {
  run: FleetRun;
  /** seconds nginx keeps a latest-finished redirect (proxy_cache_valid 302 in hydra-cache.conf) */
  validSeconds: number;
  /** latest-finished requests that reached Hydra, and /build/… requests */
  latestAtHydra: number;
  buildsAtHydra: number;
  /** requests that reached Hydra without passing nginx (no X-Forwarded-For) */
  bypassed: number;
}

export async function cacheValidSeconds(): Promise<number> {
  const match = /^\s*proxy_cache_valid 302 (\d+)s;/m.exec(await readFile(HYDRA_CACHE_CONF, "utf8"));
  if (!match) throw new Error(`${HYDRA_CACHE_CONF}: no "proxy_cache_valid 302 Ns;" line`);
  return Number(match[1]);
}

export interface ProxiedScenario {
  agents: number;
  periodMs: number;
  durationMs: number;
  /** offer a new gate build this long after the start, so the fleet must move through the cache */
  offerAtMs: number;
  /** false: the same fleet straight to Hydra (the baseline) */
  proxy: boolean;
}

export async function proxiedFleet(s: ProxiedScenario): Promise<ProxiedFleet> {
  let proxy: NginxProxy | null = null;
  try {
    const run = await simulateFleet({
      agents: s.agents, periodMs: s.periodMs, jitter: 0.1, startSpreadMs: s.periodMs, durationMs: s.durationMs,
      rollout: { windowMs: 1, offerAtMs: s.offerAtMs },
      through: async (hydraUrl) => {
        if (!s.proxy) return hydraUrl;
        proxy = await NginxProxy.start(hydraUrl);
        return proxy.url;
      },
    });
    const paths = run.serverLog.map((q) => q.path);
    return {
      run,
      validSeconds: await cacheValidSeconds(),
      latestAtHydra: paths.filter((p) => p.endsWith("/latest-finished")).length,
      buildsAtHydra: paths.filter((p) => p.startsWith("/build/")).length,
      bypassed: s.proxy ? run.serverLog.filter((q) => q.forwardedFor === null).length : 0,
    };
  } finally {
    await (proxy as NginxProxy | null)?.stop();
  }
}

export async function measureProxyCache(agents: number, periodMs: number, seconds: number): Promise<Section> {
  const scenario = { agents, periodMs, durationMs: seconds * 1000, offerAtMs: 2_000 };
  const direct = await proxiedFleet({ ...scenario, proxy: false });
  const cached = await proxiedFleet({ ...scenario, proxy: true });
  const perSecond = (n: number) => n / seconds;
  const deployed = (r: ProxiedFleet) => r.run.deployedAt.filter((t) => t !== null).length;
  const delay = (r: ProxiedFleet) => median(r.run.deployedAt.flatMap((t) => (t === null ? [] : [t - (r.run.rolloutStartMs ?? 0)])));
  const row = (label: string, r: ProxiedFleet) => ({
    label, value: `${perSecond(r.latestAtHydra).toFixed(1)}/s`, raw: perSecond(r.latestAtHydra),
    note: `${r.latestAtHydra} latest-finished and ${r.buildsAtHydra} /build/ requests reached Hydra; ` +
      `${r.run.passes} passes, ${r.run.errors} errors, ${deployed(r)} of ${agents} hosts deployed the new build, median ${formatMs(delay(r))} after it appeared`,
  });
  return {
    title: `${agents} agents, --poll-period ${periodMs / 1000}s, ${seconds} s, a new gate build at 2 s: latest-finished requests reaching Hydra`,
    rows: [row("straight to Hydra (baseline)", direct), row(`through nginx (cached ${cached.validSeconds} s)`, cached)],
    lines: [`at most one per cache period expected through nginx: ${Math.ceil(seconds / cached.validSeconds) + 1} in ${seconds} s`],
  };
}
