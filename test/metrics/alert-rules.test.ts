// nix/prometheus/hail.rules.yml under the real promtool: `check rules`, and `test rules` with
// every alert seen firing and not firing. The input series are hail's own exposition: each
// simulated host's passes go through accountPass (what the daemon does after a pass) and
// renderMetrics (what /metrics and the textfile say), minute by minute, with the `instance`
// and `job` labels a Prometheus scrape adds.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { accountPass, type PassRecord } from "../../src/metrics/account.js";
import { renderMetrics, type ProfileMetrics } from "../../src/metrics/exposition.js";
import { MetricsStateSchema, type MetricsState } from "../../src/state/schema.js";
import { exportedNames, foreignNames } from "./dashboard-queries.js";

export const RULES_FILE = fileURLToPath(new URL("../../nix/prometheus/hail.rules.yml", import.meta.url));

/**
 * What a host does in one interval: a pass, nothing (hail stopped; its last exposition stays),
 * its series vanish, or the target was removed from hail's config file (its series vanish and
 * hail exports hail_target_retired_timestamp_seconds for it instead).
 */
type Step = PassRecord | { kind: "idle" } | { kind: "gone" } | { kind: "retired" };

interface Host {
  instance: string;
  profile: string;
  /** the host's step at interval `i` */
  step: (i: number) => Step;
  /** whether a reboot waits at interval `i` (`hail_reboot_pending`, --nixos with --reboot-window), when the host has a window */
  rebootPending?: (i: number) => 0 | 1;
  /** --release-manifest: the release hail last verified at interval `i` (ProfileMetrics.release) */
  release?: (i: number) => ProfileMetrics["release"];
}

const JOB = "hail";
const pass = (upToDate: boolean): Step => ({ kind: "unchanged", upToDate });
const deployed: Step = { kind: "deployed" };
const failed = (rolledBack = true): Step => ({ kind: "failed", errorKind: "activation", rolledBack });

/**
 * promtool's input_series for `intervals` intervals of `minutes` each, starting at time 0 (as
 * promtool's clock does): the sample lines hail renders, with the scrape's labels added.
 */
export function seriesOf(hosts: Host[], intervals: number, minutes = 1): { series: string; values: string }[] {
  const values = new Map<string, string[]>();
  const sample = (key: string, i: number, value: string) => {
    let row = values.get(key);
    if (row === undefined) values.set(key, (row = new Array<string>(intervals).fill("_")));
    row[i] = value;
  };
  for (const host of hosts) {
    let m: MetricsState = MetricsStateSchema.parse({ upToDate: false, lastCheckAt: null, lastSuccessAt: null, deployments: { success: 0, failed: 0 }, rollbacks: 0, errors: {} });
    let buildId: number | null = null;
    let gone = false;
    for (let i = 0; i < intervals; i += 1) {
      const step = host.step(i);
      if (step.kind === "gone" || step.kind === "retired") {
        // this host's series of this profile only: another profile of the instance goes on
        const own = (key: string) => key.includes(`instance="${host.instance}"`) && key.includes(`{profile=${JSON.stringify(host.profile)},`);
        if (!gone) for (const key of values.keys()) if (own(key)) sample(key, i, "stale");
        gone = true;
        if (step.kind === "retired") {
          const retiredAt = new Date(i * minutes * 60_000).toISOString();
          const marker = renderMetrics([], undefined, [{ profile: host.profile, retiredAt }]).split("\n").find((l) => l.startsWith("hail_"));
          const match = /^(\w+)\{(.*)\} (\S+)$/.exec(marker ?? "");
          if (!match) throw new Error(`not a sample line: ${marker}`);
          sample(`${match[1]}{${match[2]},instance="${host.instance}",job="${JOB}"}`, i, match[3] ?? "");
        }
        continue;
      }
      gone = false;
      if (step.kind !== "idle") {
        m = accountPass(m, step, new Date(i * minutes * 60_000).toISOString());
        if (step.kind === "deployed") buildId = 100 + i;
      }
      const rebootPending = host.rebootPending ? { rebootPending: host.rebootPending(i) === 1 } : {};
      const release = host.release ? { release: host.release(i) ?? null } : {};
      const text = renderMetrics([{ profile: host.profile, metrics: m, deployedBuildId: buildId, ...rebootPending, ...release }]);
      const lines = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
      for (const line of lines) {
        const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
        if (!match) throw new Error(`not a sample line: ${line}`);
        sample(`${match[1]}{${match[2]},instance="${host.instance}",job="${JOB}"}`, i, match[3] ?? "");
      }
    }
  }
  return [...values].map(([series, row]) => ({ series, values: row.join(" ") }));
}

interface Expect {
  /** minutes since the start */
  at: number;
  alert: string;
  /** the hosts (instance + profile, and any extra label the expression keeps) it fires for; [] = silent */
  firing: Record<string, string>[];
}

const SEVERITY: Record<string, string> = {
  HailDeploymentFailed: "critical",
  HailRolledBack: "warning",
  HailKnownBadBuildSkipped: "warning",
  HailHostBehind: "warning",
  HailNotChecking: "critical",
  HailMetricsGone: "critical",
  HailRebootPendingPastWindow: "warning",
  HailReleaseExpiresSoon: "warning",
  HailWaitingForSignedRelease: "warning",
};

/**
 * The summary and description templates of each alert, read from the rules file (one
 * `key: "..."` line each, as the file is written), so a test can expect them rendered.
 */
function annotationTemplates(text: string): Map<string, Record<string, string>> {
  const templates = new Map<string, Record<string, string>>();
  let current: Record<string, string> | null = null;
  for (const line of text.split("\n")) {
    const alert = /^\s*- alert: (\w+)$/.exec(line);
    if (alert) templates.set(alert[1] ?? "", (current = {}));
    const annotation = /^\s+(summary|description): "(.*)"$/.exec(line);
    if (annotation && current) current[annotation[1] ?? ""] = JSON.parse(`"${annotation[2] ?? ""}"`) as string;
  }
  return templates;
}

/** Each alert's expression: `expr: ...` on one line, or `expr: |` and the lines indented under it. */
function ruleExpressions(text: string): { alert: string; expr: string }[] {
  const rules: { alert: string; expr: string }[] = [];
  const lines = text.split("\n");
  let alert = "";
  for (const [i, line] of lines.entries()) {
    alert = /^\s*- alert: (\w+)$/.exec(line)?.[1] ?? alert;
    const expr = /^(\s*)expr: (.*)$/.exec(line);
    if (!expr) continue;
    if (expr[2] !== "|") {
      rules.push({ alert, expr: expr[2] ?? "" });
      continue;
    }
    const body: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== "" && next.search(/\S/) <= (expr[1] ?? "").length) break;
      body.push(next.trim());
    }
    rules.push({ alert, expr: body.join(" ").trim() });
  }
  return rules;
}

/** `{{ $labels.NAME }}` filled in; a label the alert does not carry is an error, not an empty string. */
function renderTemplate(template: string, labels: Record<string, string>): string {
  const rest = template.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => {
    const value = labels[name];
    if (value === undefined) throw new Error(`template names label ${name}, which the alert does not carry: ${template}`);
    return value;
  });
  if (rest.includes("{{")) throw new Error(`template uses more than $labels: ${template}`);
  return rest;
}

/** One promtool test group: each expected alert with its labels and rendered annotations. */
function group(name: string, hosts: Host[], intervals: number, expects: Expect[], minutes = 1) {
  return {
    name,
    interval: `${minutes}m`,
    input_series: seriesOf(hosts, intervals, minutes),
    alert_rule_test: expects.map((e) => ({
      eval_time: `${e.at}m`,
      alertname: e.alert,
      exp_alerts: e.firing.map((firing) => {
        const labels: Record<string, string> = { ...firing, job: JOB, severity: SEVERITY[e.alert] ?? "" };
        const annotations = Object.entries(templates.get(e.alert) ?? {}).map(([k, t]) => [k, renderTemplate(t, labels)]);
        return { exp_labels: labels, exp_annotations: Object.fromEntries(annotations) };
      }),
    })),
  };
}

let dir: string;
let templates: Map<string, Record<string, string>>;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hail-alerts-"));
  templates = annotationTemplates(await readFile(RULES_FILE, "utf8"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** promtool with its output; the test fails (never skips) without promtool. */
async function promtool(args: string[]): Promise<{ exitCode: number | undefined; output: string }> {
  const r = await execa("promtool", args, { reject: false, all: true });
  if (r.code === "ENOENT") assert.fail("promtool is not installed (Debian package prometheus); it is required, not optional");
  return { exitCode: r.exitCode, output: r.all ?? "" };
}

/** Writes the groups as a promtool test file (JSON is YAML) and runs it. */
async function promtoolTest(name: string, tests: ReturnType<typeof group>[]): Promise<{ exitCode: number | undefined; output: string }> {
  const file = path.join(dir, `${name}.test.yml`);
  await writeFile(file, JSON.stringify({ rule_files: [RULES_FILE], evaluation_interval: "1m", tests }, null, 2));
  return promtool(["test", "rules", file]);
}

async function assertPasses(name: string, tests: ReturnType<typeof group>[]): Promise<void> {
  const r = await promtoolTest(name, tests);
  assert.equal(r.exitCode, 0, r.output);
}

const upToDate = (instance: string, profile = "myapp"): Host => ({ instance, profile, step: (i) => (i === 0 ? deployed : pass(true)) });
const at = (instance: string, profile = "myapp") => ({ instance, profile });

describe("nix/prometheus/hail.rules.yml", () => {
  it("promtool check rules accepts it", async () => {
    const r = await promtool(["check", "rules", RULES_FILE]);
    assert.equal(r.exitCode, 0, r.output);
    assert.match(r.output, /SUCCESS: 9 rules found/);
  });

  it("every rule reads only series and labels hail exports", async () => {
    const exported = exportedNames();
    const problems = ruleExpressions(await readFile(RULES_FILE, "utf8"))
      .flatMap(({ alert, expr }) => foreignNames({ where: alert, expr }, exported).map((f) => `${alert}: ${f}`));
    assert.deepEqual(problems, []);
    assert.equal(ruleExpressions(await readFile(RULES_FILE, "utf8")).length, Object.keys(SEVERITY).length);
  });

  it("the harness can fail: an alert expected where none fires fails promtool test rules", async () => {
    const r = await promtoolTest("wrong", [group("wrong", [upToDate("host-a")], 20, [{ at: 10, alert: "HailDeploymentFailed", firing: [at("host-a")] }])]);
    assert.equal(r.exitCode, 1, r.output);
    assert.match(r.output, /HailDeploymentFailed/);
  });

  it("a failed deployment fires HailDeploymentFailed, and HailRolledBack only when hail rolled back; both clear", async () => {
    const hosts: Host[] = [
      upToDate("host-a"),
      { instance: "host-b", profile: "myapp", step: (i) => (i === 0 ? deployed : i === 10 ? failed(true) : pass(false)) },
      { instance: "host-c", profile: "myapp", step: (i) => (i === 0 ? deployed : i === 10 ? failed(false) : pass(false)) },
    ];
    await assertPasses("failed", [group("a failed deployment", hosts, 60, [
      { at: 5, alert: "HailDeploymentFailed", firing: [] },
      { at: 12, alert: "HailDeploymentFailed", firing: [{ ...at("host-b"), result: "failed" }, { ...at("host-c"), result: "failed" }] },
      { at: 40, alert: "HailDeploymentFailed", firing: [] },
      { at: 5, alert: "HailRolledBack", firing: [] },
      { at: 12, alert: "HailRolledBack", firing: [at("host-b")] },
      { at: 40, alert: "HailRolledBack", firing: [] },
    ])]);
  });

  it("a host that keeps skipping the build that failed on it fires HailKnownBadBuildSkipped; one that moved on does not", async () => {
    const hosts: Host[] = [
      upToDate("host-a"),
      // failed at minute 10, then skips that build at every pass
      { instance: "host-b", profile: "myapp", step: (i) => (i === 0 ? deployed : i === 10 ? failed() : pass(false)) },
      // failed at minute 10, then a newer build deployed at minute 20
      { instance: "host-d", profile: "myapp", step: (i) => (i === 0 || i === 20 ? deployed : i === 10 ? failed() : pass(i > 20)) },
    ];
    await assertPasses("skipped", [group("a known-bad build skipped", hosts, 90, [
      { at: 25, alert: "HailKnownBadBuildSkipped", firing: [] },
      { at: 50, alert: "HailKnownBadBuildSkipped", firing: [at("host-b")] },
    ])]);
  });

  it("a host behind for 2 hours while others are current fires HailHostBehind; a whole fleet behind does not", async () => {
    const hosts: Host[] = [
      upToDate("host-a"),
      upToDate("host-b"),
      { instance: "host-c", profile: "myapp", step: () => pass(false) },
      // "worker" is behind everywhere (nothing deployable yet): not one host's problem
      { instance: "host-a", profile: "worker", step: () => pass(false) },
      { instance: "host-b", profile: "worker", step: () => pass(false) },
    ];
    await assertPasses("behind", [group("a host behind the fleet", hosts, 150, [
      { at: 60, alert: "HailHostBehind", firing: [] },
      { at: 140, alert: "HailHostBehind", firing: [at("host-c")] },
    ])]);
  });

  it("a host whose last pass is 30 minutes old fires HailNotChecking; its series gone fires HailMetricsGone", async () => {
    const hosts: Host[] = [
      upToDate("host-a"),
      // hail stopped at minute 5; the textfile collector still serves its last file
      { instance: "host-f", profile: "myapp", step: (i) => (i === 0 ? deployed : i <= 5 ? pass(true) : { kind: "idle" }) },
      // the host (or hail's /metrics) stopped answering at minute 20
      { instance: "host-g", profile: "myapp", step: (i) => (i === 0 ? deployed : i < 20 ? pass(true) : { kind: "gone" }) },
    ];
    await assertPasses("not-checking", [group("a host that stopped checking", hosts, 60, [
      { at: 30, alert: "HailNotChecking", firing: [] },
      { at: 45, alert: "HailNotChecking", firing: [at("host-f")] },
      { at: 25, alert: "HailMetricsGone", firing: [] },
      { at: 40, alert: "HailMetricsGone", firing: [at("host-g")] },
    ])]);
  });

  it("a target removed from the config on purpose does not fire HailMetricsGone; one left out does, as does the other profile of its host", async () => {
    const removedAt = 20;
    const hosts: Host[] = [
      upToDate("host-r", "kept"),
      // removed from the config at minute 20: hail retires it and says so
      { instance: "host-r", profile: "removed", step: (i) => (i === 0 ? deployed : i < removedAt ? pass(true) : { kind: "retired" }) },
      // the same host's other target vanishes without a word (left out at start): lost
      { instance: "host-s", profile: "kept", step: (i) => (i === 0 ? deployed : pass(true)) },
      { instance: "host-s", profile: "lost", step: (i) => (i === 0 ? deployed : i < removedAt ? pass(true) : { kind: "gone" }) },
    ];
    await assertPasses("retired", [group("a target removed on purpose", hosts, 60, [
      { at: 45, alert: "HailMetricsGone", firing: [at("host-s", "lost")] },
    ])]);
  });

  it("a reboot pending for more than a day fires HailRebootPendingPastWindow; one done in its window does not", async () => {
    const steady = (instance: string, pending: (minute: number) => 0 | 1): Host => ({
      instance, profile: "system", step: (i) => (i === 0 ? deployed : pass(true)), rebootPending: pending,
    });
    const hour = 60;
    const hosts = [steady("host-m", (i) => (i >= hour && i < 4 * hour ? 1 : 0)), steady("host-n", (i) => (i >= hour ? 1 : 0))];
    await assertPasses("reboot", [group("a reboot pending past its window", hosts, 28 * hour, [
      { at: 20 * hour, alert: "HailRebootPendingPastWindow", firing: [] },
      { at: 27 * hour, alert: "HailRebootPendingPastWindow", firing: [at("host-n", "system")] },
    ])]);
  });

  it("a signed release expiring within a day fires HailReleaseExpiresSoon; one with days left or no expiry does not", async () => {
    const hour = 60;
    const signed = (instance: string, expiresAtHour: number | null): Host => ({
      instance,
      profile: "myapp",
      step: (i) => (i === 0 ? deployed : pass(true)),
      release: () => ({
        url: "https://releases.example.org/myapp.json",
        build: 100,
        principal: "alice@example.org",
        fingerprint: "SHA256:x",
        expires: expiresAtHour === null ? null : new Date(expiresAtHour * 3600_000).toISOString(),
        waiting: null,
      }),
    });
    const hosts = [signed("host-x", 30), signed("host-y", 30 * 24), signed("host-z", null)];
    await assertPasses("release-expiry", [group("a release about to expire", hosts, 8 * hour, [
      { at: 5 * hour, alert: "HailReleaseExpiresSoon", firing: [] },
      { at: 7 * hour, alert: "HailReleaseExpiresSoon", firing: [at("host-x")] },
    ])]);
  });

  it("waiting more than 6 hours on an unsigned gate build fires HailWaitingForSignedRelease; a shorter wait does not", async () => {
    const hour = 60;
    const waitingFrom = (instance: string, since: number | null): Host => ({
      instance,
      profile: "myapp",
      step: (i) => (i === 0 ? deployed : pass(true)),
      release: (i) => ({
        url: "https://releases.example.org/myapp.json",
        build: 100,
        principal: "alice@example.org",
        fingerprint: "SHA256:x",
        expires: null,
        waiting: since === null || i < since ? null : { gateBuildId: 103, since: new Date(since * 60_000).toISOString() },
      }),
    });
    const hosts = [waitingFrom("host-w", hour), waitingFrom("host-v", 5 * hour), waitingFrom("host-u", null)];
    await assertPasses("release-waiting", [group("a host waiting for a signature", hosts, 9 * hour, [
      { at: 6 * hour, alert: "HailWaitingForSignedRelease", firing: [] },
      { at: 8 * hour, alert: "HailWaitingForSignedRelease", firing: [at("host-w")] },
    ])]);
  });
});
