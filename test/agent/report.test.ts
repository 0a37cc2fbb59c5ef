import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PassReport } from "../../src/agent/report.js";
import { describePass, isHealthy, passError, passExitCode, passRecord } from "../../src/agent/report.js";
import { ActivationFailed, HydraUnavailable } from "../../src/errors.js";
import { NotANixosSystem } from "../../src/nixos/system.js";
import { HASH, resolution, storePath } from "../deploy/builds.js";

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

/** Everything said about a pass, read from its report: exit code, health, metrics record. */
const cases: Array<[string, PassReport, number, boolean, ReturnType<typeof passRecord>]> = [
  ["deployed", { kind: "deployed", resolution: offered, hookFailures: 1 }, 0, true, { kind: "deployed", hookFailures: 1 }],
  [
    "failed, rolled back",
    { kind: "failed", resolution: offered, error: activation, rolledBack: true, hookFailures: 0 },
    1,
    false,
    { kind: "failed", errorKind: "activation", rolledBack: true, hookFailures: 0 },
  ],
  [
    "failed: not a NixOS system keeps its own code",
    { kind: "failed", resolution: offered, error: new NotANixosSystem("no nixos-version"), rolledBack: false, hookFailures: 0 },
    65,
    false,
    { kind: "failed", errorKind: "invalid_response", rolledBack: false, hookFailures: 0 },
  ],
  ["up to date", unchanged({ kind: "up-to-date" }), 0, true, { kind: "unchanged", upToDate: true }],
  ["held", unchanged({ kind: "held", reason: "held" }, OTHER), 0, true, { kind: "unchanged", upToDate: false }],
  ["waiting for the rollout", unchanged({ kind: "wait", until: "2026-01-01T00:00:00.000Z", reason: "staged" }, OTHER), 75, true, { kind: "unchanged", upToDate: false }],
  ["changed by hand", unchanged({ kind: "skip", cause: "changed-by-hand", reason: "by hand" }, OTHER), 0, true, { kind: "unchanged", upToDate: false }],
  // a known-bad build the profile is stuck on (--no-rollback): failing, and not up to date
  ["skipping a build that failed before", unchanged({ kind: "skip", cause: "failed-before", reason: "failed" }), 1, false, { kind: "unchanged", upToDate: false }],
  ["older than deployed", unchanged({ kind: "stay", cause: "older-than-deployed", offeredId: 1, deployedId: 2, reason: "older" }, OTHER), 0, true, { kind: "checked" }],
  ["Hydra unavailable", { kind: "error", error: new HydraUnavailable("https://hydra.example", "HTTP 503") }, 69, false, { kind: "error", errorKind: "unavailable" }],
  ["an interrupted deployment failed to finish", { kind: "converge-failed" }, 1, false, { kind: "error", errorKind: "activation" }],
];

describe("a pass's report", () => {
  for (const [name, report, code, healthy, record] of cases) {
    it(`${name}: exit ${code}, ${healthy ? "healthy" : "failing"}, counted as ${record.kind}`, () => {
      assert.equal(passExitCode(report), code);
      assert.equal(isHealthy(report), healthy);
      assert.deepEqual(passRecord(report), record);
    });
  }

  it("no pass yet is healthy and has no error", () => {
    assert.equal(isHealthy(null), true);
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
