// nix/grafana/hail-dashboard.json: every query names only series and labels hail exports.
// The exported names come from renderMetrics itself (what /metrics and the textfile say),
// plus `instance` and `job`, which a Prometheus scrape adds; every query must also be valid
// PromQL, as promtool reads it.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { execa } from "execa";
import { DASHBOARD_FILE, dashboardQueries, exportedNames, foreignNames, plainPromQL, type Dashboard } from "./dashboard-queries.js";

describe("nix/grafana/hail-dashboard.json", () => {
  it("the exported names come from renderMetrics: every hail series, and profile, result, kind", () => {
    const { series, labels } = exportedNames();
    assert.ok(series.has("hail_deployed_build_id") && series.has("hail_deployments_total") && series.has("hail_errors_total"));
    assert.deepEqual([...labels].sort(), ["commit", "fingerprint", "instance", "job", "kind", "nodejs", "principal", "profile", "reason", "result", "version"]);
  });

  it("every query names only series and labels hail exports", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD_FILE, "utf8")) as Dashboard;
    const queries = dashboardQueries(dashboard);
    assert.ok(queries.length >= 10, `${queries.length} queries`);
    const exported = exportedNames();
    const problems = queries.flatMap((q) => foreignNames(q, exported).map((f) => `${q.where}: ${f} in ${q.expr}`));
    assert.deepEqual(problems, []);
  });

  it("the check has teeth: a misspelt series, a label hail does not set, a legend naming one", () => {
    const exported = exportedNames();
    assert.deepEqual(foreignNames({ where: "x", expr: 'sum by (host) (hail_up_to_dat{profile="a"})' }, exported), ["series hail_up_to_dat", "label host"]);
    assert.deepEqual(foreignNames({ where: "x", expr: 'hail_deployments_total{status="failed"}' }, exported), ["label status"]);
    assert.deepEqual(foreignNames({ where: "x", expr: "hail_up_to_date", legendFormat: "{{hostname}}" }, exported), ["label hostname"]);
    assert.deepEqual(foreignNames({ where: "x", expr: 'count_values by (profile) ("build", hail_deployed_build_id)', legendFormat: "{{build}}" }, exported), []);
  });

  it("every query is valid PromQL (promtool check rules, each as a recording rule)", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD_FILE, "utf8")) as Dashboard;
    const rules = dashboardQueries(dashboard)
      .filter((q) => !q.expr.startsWith("label_values("))
      .map((q, i) => ({ record: `dashboard:query_${i}`, expr: plainPromQL(q.expr) }));
    const dir = await mkdtemp(path.join(os.tmpdir(), "hail-dashboard-"));
    try {
      const file = path.join(dir, "queries.yml");
      await writeFile(file, JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
      const r = await execa("promtool", ["check", "rules", file], { reject: false, all: true });
      if (r.code === "ENOENT") assert.fail("promtool is not installed (Debian package prometheus); it is required");
      assert.equal(r.exitCode, 0, r.all);
      assert.match(r.all ?? "", new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
