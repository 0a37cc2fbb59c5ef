import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PassReport } from "../../src/agent/report.js";
import { describePass, passCondition, passError, passExitCode, passRecord } from "../../src/agent/report.js";
import { ActivationFailed, HydraUnavailable } from "../../src/errors.js";
import { NotANixosSystem } from "../../src/nixos/system.js";
import { HASH, resolution, storePath } from "../resolve/builds.js";

const OFFERED = storePath(HASH.a, "app-server-1.0");
const OTHER = storePath(HASH.b, "app-server-0.9");
const offered = resolution({ storePath: OFFERED });

const unchanged = (decision: Extract<PassReport, { kind: "unchanged" }>["decision"], currentPath: string | null = OFFERED): PassReport => ({
  kind: "unchanged",
  resolution: offered,
  decision,
  currentPath,
});
const activation = new ActivationFailed("bin/activate exited with 3");

type State = ReturnType<typeof passCondition>["condition"];
const knownBad = { kind: "skip", cause: "failed-before", reason: `${OFFERED} failed to deploy at 2026-01-01T00:00:00.000Z (exit 3)` } as const;

/** Everything said about a pass, read from its report: exit code, /healthz condition, metrics record. */
const cases: Array<[string, PassReport, number, State, ReturnType<typeof passRecord>]> = [
  ["deployed", { kind: "deployed", resolution: offered, hookFailures: 1 }, 0, "ok", { kind: "deployed", hookFailures: 1 }],
  [
    "failed, rolled back",
    { kind: "failed", resolution: offered, error: activation, rolledBack: true, hookFailures: 0 },
    1,
    "failing",
    { kind: "failed", errorKind: "activation", rolledBack: true, hookFailures: 0 },
  ],
  [
    "failed: not a NixOS system keeps its own code",
    { kind: "failed", resolution: offered, error: new NotANixosSystem("no nixos-version"), rolledBack: false, hookFailures: 0 },
    65,
    "failing",
    { kind: "failed", errorKind: "invalid_response", rolledBack: false, hookFailures: 0 },
  ],
  ["up to date", unchanged({ kind: "up-to-date" }), 0, "ok", { kind: "unchanged", upToDate: true }],
  ["held", unchanged({ kind: "held", reason: "held" }, OTHER), 0, "ok", { kind: "unchanged", upToDate: false }],
  ["waiting for the rollout", unchanged({ kind: "wait", until: "2026-01-01T00:00:00.000Z", reason: "staged" }, OTHER), 75, "ok", { kind: "unchanged", upToDate: false }],
  ["changed by hand", unchanged({ kind: "skip", cause: "changed-by-hand", reason: "by hand" }, OTHER), 0, "ok", { kind: "unchanged", upToDate: false }],
  // hail works as designed: the known-bad build is skipped, the one deployed before is kept
  ["skipping a build that failed before, keeping the one before", unchanged(knownBad, OTHER), 1, "degraded", { kind: "unchanged", upToDate: false, knownBadSkip: true }],
  // a known-bad build the profile is stuck on (--no-rollback): failing, and not up to date
  ["skipping a build that failed before and is still deployed", unchanged(knownBad), 1, "failing", { kind: "unchanged", upToDate: false, knownBadSkip: true }],
  ["skipping a build that failed before, nothing deployed", unchanged(knownBad, null), 1, "failing", { kind: "unchanged", upToDate: false, knownBadSkip: true }],
  ["older than deployed", unchanged({ kind: "stay", cause: "older-than-deployed", offeredId: 1, deployedId: 2, reason: "older" }, OTHER), 0, "ok", { kind: "checked" }],
  ["Hydra unavailable", { kind: "error", error: new HydraUnavailable("https://hydra.example", "HTTP 503") }, 69, "failing", { kind: "error", errorKind: "unavailable" }],
  ["an interrupted deployment failed to finish", { kind: "converge-failed" }, 1, "failing", { kind: "error", errorKind: "activation" }],
];

describe("a pass's report", () => {
  for (const [name, report, code, condition, record] of cases) {
    it(`${name}: exit ${code}, ${condition}, counted as ${record.kind}`, () => {
      assert.equal(passExitCode(report), code);
      assert.equal(passCondition(report, 7).condition, condition);
      assert.deepEqual(passRecord(report), record);
    });
  }

  it("a known-bad skip names the skipped build and the kept one (degraded: hail works as designed)", () => {
    const condition = passCondition(unchanged(knownBad, OTHER), 7);
    assert.deepEqual(condition, {
      condition: "degraded",
      reason: `build 281735 known-bad, keeping build 7 (${OTHER}): ${knownBad.reason}`,
      knownBad: { buildId: 281735, storePath: OFFERED },
      kept: { buildId: 7, storePath: OTHER },
    });
    // a profile changed outside hail has no build id: the path is named instead
    const unknown = passCondition(unchanged(knownBad, OTHER), null);
    assert.equal(unknown.condition === "degraded" ? unknown.reason : "", `build 281735 known-bad, keeping ${OTHER}: ${knownBad.reason}`);
  });

  it("a known-bad build still deployed, or nothing to keep, is failing with a reason and an error", () => {
    const stuck = passCondition(unchanged(knownBad), 281735);
    assert.equal(stuck.condition, "failing");
    assert.match(stuck.condition === "failing" ? stuck.reason : "", /^build 281735 known-bad and still deployed \(--no-rollback, or a failed rollback\): /);
    assert.equal(stuck.condition === "failing" && stuck.error.kind, "known_bad");
    const nothing = passCondition(unchanged(knownBad, null), null);
    assert.match(nothing.condition === "failing" ? nothing.reason : "", /^build 281735 known-bad and nothing deployed to keep: /);
  });

  it("an outage is failing with its error as the reason", () => {
    const error = new HydraUnavailable("https://hydra.example", "HTTP 503");
    assert.deepEqual(passCondition({ kind: "error", error }, 7), {
      condition: "failing",
      reason: error.message,
      error: { kind: "unavailable", message: error.message },
    });
  });

  it("no pass yet is ok and has no error", () => {
    assert.deepEqual(passCondition(null, null), { condition: "ok" });
    assert.equal(passError(null), null);
  });

  it("names the error of a failed pass for /healthz", () => {
    assert.deepEqual(passError({ kind: "failed", resolution: offered, error: activation, rolledBack: true, hookFailures: 0 }), {
      kind: "activation",
      message: "bin/activate exited with 3",
    });
    assert.deepEqual(passError({ kind: "converge-failed" }), { kind: "activation", message: "finishing an interrupted deployment failed" });
    assert.deepEqual(passError({ kind: "error", error: new HydraUnavailable("https://hydra.example", "HTTP 503") }), {
      kind: "unavailable",
      message: "Hydra unavailable at https://hydra.example: HTTP 503",
    });
    assert.equal(passError({ kind: "deployed", resolution: offered, hookFailures: 0 }), null);
  });
});

describe("describePass", () => {
  it("one line per outcome, nix's output folded", () => {
    const multiLine = new ActivationFailed("bin/activate exited with 3\n  line one\n\n  line two");
    assert.equal(describePass({ kind: "deployed", resolution: offered, hookFailures: 0 }, "myapp"), `deployed build 281735 ${OFFERED} to myapp`);
    assert.equal(
      describePass({ kind: "failed", resolution: offered, error: multiLine, rolledBack: true, hookFailures: 0 }, "myapp"),
      `failed to deploy build 281735 ${OFFERED} to myapp (rolled back): bin/activate exited with 3 | line one | line two`,
    );
    assert.equal(describePass({ kind: "unchanged", resolution: offered, decision: { kind: "up-to-date" }, currentPath: OFFERED }, "myapp"), `myapp is up to date at build 281735 ${OFFERED}`);
    assert.equal(describePass({ kind: "unchanged", resolution: offered, decision: { kind: "held", reason: "profile is held" }, currentPath: OTHER }, "myapp"), "myapp not changed: profile is held");
  });
});
