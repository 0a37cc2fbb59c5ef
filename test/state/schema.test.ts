import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { emptyState } from "../../src/state/schema.js";
import { parseState, StateFileError } from "../../src/state/state-store.js";

const FILE = "/var/lib/hail/app.json";
const AT = "2026-03-01T10:00:00.000Z";

/** A state file as the first hail wrote it: none of the keys added since. */
const FIRST_VERSION = {
  version: 1,
  profile: "app",
  profilePath: "/nix/var/nix/profiles/app",
  lastDeployed: { storePath: "/nix/store/aaaa-app", buildId: 7, gateBuildId: 8, evals: [3], at: AT },
  lastAttempt: {
    storePath: "/nix/store/aaaa-app",
    buildId: 7,
    gateBuildId: 8,
    evals: [3],
    startedAt: AT,
    endedAt: AT,
    result: "success",
    error: null,
    previousGeneration: 4,
  },
  lastError: null,
  failed: [],
  hold: null,
  metrics: { upToDate: true, lastCheckAt: AT, lastSuccessAt: AT, deployments: { success: 1, failed: 0 }, rollbacks: 0, errors: {} },
};

describe("parseState", () => {
  it("reads what emptyState writes", () => {
    const state = emptyState("app", "/p/app");
    assert.deepEqual(parseState(JSON.stringify(state), FILE), state);
  });

  it("fills the keys added since the first version with their defaults", () => {
    const state = parseState(JSON.stringify(FIRST_VERSION), FILE);
    assert.equal(state.lastDeployed?.job, "");
    assert.equal(state.lastDeployed?.stoptime, null);
    assert.equal(state.lastDeployed?.source, "");
    assert.equal(state.lastAttempt?.previousLink, null);
    assert.equal(state.lastAttempt?.previousStorePath, null);
    assert.equal(state.activation, null);
    assert.equal(state.managedBy, null);
    assert.equal(state.retiredAt, null);
    assert.equal(state.rebootPending, null);
    assert.equal(state.metrics.hookFailures, 0);
  });

  it("fills the metrics of a file that has none", () => {
    const { metrics: _, ...noMetrics } = FIRST_VERSION;
    assert.deepEqual(parseState(JSON.stringify(noMetrics), FILE).metrics, emptyState("x", "/x").metrics);
  });

  const damaged: Array<[string, unknown, RegExp]> = [
    ["truncated JSON", '{"version": 1, "prof', /is not valid JSON/],
    ["no version", { ...FIRST_VERSION, version: undefined }, /has version undefined/],
    ["a newer version", { ...FIRST_VERSION, version: 2 }, /has version 2, this hail reads version 1.*upgrade hail/],
    ["a list", [1, 2], /has version undefined/],
    ["a build id that is text", { ...FIRST_VERSION, lastDeployed: { ...FIRST_VERSION.lastDeployed, buildId: "7" } }, /damaged \(lastDeployed\.buildId/],
    ["a time that is not ISO 8601", { ...FIRST_VERSION, hold: { reason: null, since: "yesterday", until: null } }, /damaged \(hold\.since/],
    ["an unknown attempt result", { ...FIRST_VERSION, lastAttempt: { ...FIRST_VERSION.lastAttempt, result: "maybe" } }, /damaged \(lastAttempt\.result/],
    ["a negative counter", { ...FIRST_VERSION, metrics: { ...FIRST_VERSION.metrics, rollbacks: -1 } }, /damaged \(metrics\.rollbacks/],
    ["no profile path", { ...FIRST_VERSION, profilePath: undefined }, /damaged \(profilePath/],
  ];
  for (const [what, json, message] of damaged) {
    it(`refuses ${what}, naming the file and what to do`, () => {
      const text = typeof json === "string" ? json : JSON.stringify(json);
      assert.throws(
        () => parseState(text, FILE),
        (err: unknown) =>
          err instanceof StateFileError &&
          err.exitCode === 64 &&
          message.test(err.message) &&
          err.message.startsWith(`state file ${FILE} `) &&
          /move (it|the file) away/.test(err.message),
      );
    });
  }
});
