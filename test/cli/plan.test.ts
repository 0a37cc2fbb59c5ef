import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlanReport } from "../../src/cli/plan-report.js";
import { buildReport, renderPlan } from "../../src/cli/plan.js";
import type { Target } from "../../src/resolve/target.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import { profileRefOf } from "../../src/profile/path.js";
import { HASH, resolution, storePath } from "../resolve/builds.js";

const GATE = "https://hydra.example/job/acme/production/release_gate";
const PROFILE = "/nix/var/nix/profiles/hail/myapp";
const OFFERED = storePath(HASH.a, "app-server-1.0");
const CURRENT = storePath(HASH.b, "app-server-0.9");

const gateTarget: Target = {
  source: { kind: "gate", job: parseJobUrl(GATE), constituent: "app-server" },
  profile: profileRefOf("hail/myapp", "/nix/var/nix/profiles"),
  output: "out",
};
const jobTarget: Target = {
  source: { kind: "job", job: parseJobUrl("https://hydra.example/job/acme/production/app-server") },
  profile: profileRefOf("myapp", "/nix/var/nix/profiles"),
  output: "out",
};

describe("buildReport", () => {
  it("a deploy lists realise, set and activate, in that order", () => {
    const report = buildReport(gateTarget, resolution({ storePath: OFFERED }), CURRENT, { kind: "deploy" });
    assert.deepEqual(report.commands, [
      `nix-store --realise ${OFFERED} --max-jobs 0`,
      `nix-env --profile ${PROFILE} --set ${OFFERED}`,
      `${PROFILE}/bin/activate`,
    ]);
    assert.equal(report.action, "deploy");
    assert.equal(report.reason, null);
  });

  it("describes the target, the builds and the profile", () => {
    const report = buildReport(gateTarget, resolution({ storePath: OFFERED }), CURRENT, { kind: "deploy" });
    assert.deepEqual(report.target, {
      source: `${GATE} constituent app-server`,
      kind: "gate",
      url: GATE,
      constituent: "app-server",
      output: "out",
    });
    assert.deepEqual(report.profile, { name: "hail/myapp", path: PROFILE });
    assert.deepEqual(
      [report.gateBuildId, report.buildId, report.job, report.evals, report.storePath, report.currentPath],
      [281734, 281735, "app-server", [19017, 19022], OFFERED, CURRENT],
    );
  });

  it("job mode has no constituent and no gate build", () => {
    const report = buildReport(jobTarget, resolution({ gateBuildId: null, storePath: OFFERED }), null, { kind: "deploy" });
    assert.equal(report.target.kind, "job");
    assert.equal(report.target.constituent, null);
    assert.equal(report.gateBuildId, null);
    assert.equal(report.currentPath, null);
  });

  it("nothing to do: no commands", () => {
    const report = buildReport(gateTarget, resolution({ storePath: OFFERED }), OFFERED, { kind: "up-to-date" });
    assert.equal(report.action, "none");
    assert.deepEqual(report.commands, []);
    assert.equal(report.reason, null);
  });

  it("a skip carries its reason and no commands", () => {
    const reason = `${OFFERED} failed to deploy at 2025-03-01T11:00:00.000Z (activation exited 3)`;
    const report = buildReport(gateTarget, resolution({ storePath: OFFERED }), CURRENT, { kind: "skip", cause: "failed-before", reason });
    assert.equal(report.action, "skip");
    assert.equal(report.reason, reason);
    assert.deepEqual(report.commands, []);
  });

  it("a hold carries its reason and no commands", () => {
    const report = buildReport(gateTarget, resolution({ storePath: OFFERED }), CURRENT, { kind: "held", reason: "profile is held" });
    assert.deepEqual([report.action, report.reason, report.commands], ["held", "profile is held", []]);
  });

  it("survives a JSON round trip unchanged (what --json prints)", () => {
    const report = buildReport(gateTarget, resolution({ storePath: OFFERED }), null, { kind: "deploy" });
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });
});

describe("renderPlan", () => {
  const deploy: PlanReport = buildReport(gateTarget, resolution({ storePath: OFFERED }), CURRENT, { kind: "deploy" });
  const text = renderPlan(deploy);
  const lines = text.split("\n");

  const rows: Array<[string, string]> = [
    ["target", `${GATE} constituent app-server (output out)`],
    ["profile", `hail/myapp (${PROFILE})`],
    ["gate build", "281734"],
    ["build", "281735 (job app-server)"],
    ["evaluations", "19017, 19022"],
    ["store path", OFFERED],
    ["current", CURRENT],
    ["action", "deploy"],
  ];
  for (const [label, value] of rows) {
    it(`has the row ${label}: ${value}`, () => {
      const row = lines.find((line) => line.startsWith(`${label}:`));
      assert.ok(row, `no "${label}:" row in:\n${text}`);
      assert.equal(row.slice(`${label}:`.length).trim(), value);
    });
  }

  it("lists the commands it would run, indented, after the rows", () => {
    const at = lines.indexOf("would run:");
    assert.ok(at > 0);
    assert.deepEqual(lines.slice(at + 1, at + 4), deploy.commands.map((c) => `  ${c}`));
    assert.ok(text.endsWith("\n"));
  });

  it("no profile, no gate, no commands, a reason", () => {
    const report = buildReport(jobTarget, resolution({ gateBuildId: null, evals: [], storePath: OFFERED }), null, {
      kind: "skip",
      cause: "failed-before",
      reason: "failed before",
    });
    const out = renderPlan(report);
    assert.match(out, /^gate build: +-$/m);
    assert.match(out, /^evaluations: +-$/m);
    assert.match(out, /^current: +\(no profile yet\)$/m);
    assert.match(out, /^action: +skip: failed before$/m);
    assert.ok(!out.includes("would run:"));
  });
});
