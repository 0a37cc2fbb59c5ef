// What the dashboard test and the dashboard picture share: the dashboard's queries, as plain
// PromQL, and the series and label names hail exports (from renderMetrics itself).
import { fileURLToPath } from "node:url";
import { renderMetrics } from "../../src/metrics/exposition.js";
import { MetricsStateSchema } from "../../src/state/schema.js";

export const DASHBOARD_FILE = fileURLToPath(new URL("../../nix/grafana/hail-dashboard.json", import.meta.url));
const SCRAPE_LABELS = ["instance", "job"];

/** Family and label names in hail's exposition of a profile that has every series hail renders. */
export function exportedNames(): { series: Set<string>; labels: Set<string> } {
  const metrics = MetricsStateSchema.parse({
    upToDate: true, lastCheckAt: null, lastSuccessAt: null, deployments: { success: 1, failed: 1 }, rollbacks: 1, errors: {},
  });
  // rebootPending: a --nixos target, so hail_reboot_pending and hail_reboot_pending_reason are rendered too;
  // release: a --release-manifest target with an expiring release, so the hail_release_* series are;
  // a retired target, so hail_target_retired_timestamp_seconds is
  const at = "2026-01-01T00:00:00.000Z";
  const release = { url: "https://r.example/m.json", build: 1, principal: "a", fingerprint: "SHA256:x", expires: at, waiting: { gateBuildId: 2, since: at } };
  const text = renderMetrics([{ profile: "p", metrics, deployedBuildId: 1, rebootPending: true, release }], undefined, [{ profile: "q", retiredAt: at }]);
  const series = new Set<string>();
  const labels = new Set<string>(SCRAPE_LABELS);
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type?.[1]) series.add(type[1]);
    const sample = /^\w+\{(.*)\} /.exec(line);
    for (const m of (sample?.[1] ?? "").matchAll(/(\w+)="/g)) if (m[1]) labels.add(m[1]);
  }
  return { series, labels };
}

export interface Query {
  where: string;
  expr: string;
  legendFormat?: string;
}

export interface Dashboard {
  panels: { title: string; targets: { expr: string; legendFormat?: string }[] }[];
  templating: { list: { name: string; definition?: string }[] };
}

export function dashboardQueries(dashboard: Dashboard): Query[] {
  const queries: Query[] = dashboard.panels.flatMap((p) =>
    p.targets.map((t, i) => ({ where: `panel "${p.title}" target ${i}`, expr: t.expr, ...(t.legendFormat ? { legendFormat: t.legendFormat } : {}) })));
  for (const v of dashboard.templating.list) {
    if (v.definition) queries.push({ where: `variable ${v.name}`, expr: v.definition });
  }
  return queries;
}

/** Grafana's variables replaced by values, so the query is plain PromQL. */
export function plainPromQL(expr: string): string {
  return expr.replace(/\$__rate_interval/g, "5m").replace(/\$__range/g, "1h").replace(/\$profile/g, ".*");
}

/** Series and labels a query names that hail does not export; [] when it names only hail's. */
export function foreignNames(q: Query, exported: { series: Set<string>; labels: Set<string> }): string[] {
  const original = plainPromQL(q.expr);
  // String contents (regexes, count_values' label) are not names of series.
  const expr = original.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  // count_values("LABEL", …) makes a label of its own; label_values(series, LABEL) reads one.
  const introduced = new Set([...original.matchAll(/count_values\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(\s*"(\w+)"/g)].map((m) => m[1] ?? ""));
  const foreign: string[] = [];
  const series = [...expr.matchAll(/\b[a-zA-Z_:][\w:]*\b/g)].map((m) => m[0]).filter((name) => name.startsWith("hail_"));
  for (const name of series) if (!exported.series.has(name)) foreign.push(`series ${name}`);
  const labelNames = [
    ...[...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...(m[1] ?? "").matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] ?? "")),
    ...[...expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)].flatMap((m) => (m[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean)),
    ...[...expr.matchAll(/label_values\s*\([^,]*,\s*(\w+)\s*\)/g)].map((m) => m[1] ?? ""),
    ...[...(q.legendFormat ?? "").matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1] ?? ""),
  ];
  for (const label of labelNames) if (!exported.labels.has(label) && !introduced.has(label)) foreign.push(`label ${label}`);
  return foreign;
}
