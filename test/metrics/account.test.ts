// accountPass and countersChanged: how one pass moves the metrics (README, "Metrics").
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { accountPass, countersChanged, type PassRecord } from "../../src/metrics/account.js";
import { MetricsStateSchema, type MetricsState } from "../../src/state/schema.js";

const EARLIER = "2024-01-01T00:00:00.000Z";
const AT = "2024-01-02T00:00:00.000Z";

/** A profile with some history, so every counter has a value to keep or move. */
function history(overrides: Partial<MetricsState> = {}): MetricsState {
  return metrics({
    upToDate: true,
    lastCheckAt: EARLIER,
    lastSuccessAt: EARLIER,
    deployments: { success: 5, failed: 2 },
    rollbacks: 1,
    errors: { unavailable: 3 },
    ...overrides,
  });
}

/** Through the state file's schema, so fields it defaults are filled in as hail would. */
function metrics(m: Partial<MetricsState>): MetricsState {
  return MetricsStateSchema.parse(m);
}

describe("accountPass", () => {
  const cases: [what: string, before: MetricsState, pass: PassRecord, after: MetricsState][] = [
    [
      "deployed: success +1, up to date, last check and last success now",
      history({ upToDate: false }),
      { kind: "deployed" },
      history({ upToDate: true, lastCheckAt: AT, lastSuccessAt: AT, deployments: { success: 6, failed: 2 } }),
    ],
    [
      "failed and rolled back: failed +1, rollbacks +1, errors[kind] +1, not up to date, last success kept",
      history(),
      { kind: "failed", errorKind: "activation", rolledBack: true },
      history({ upToDate: false, lastCheckAt: AT, deployments: { success: 5, failed: 3 }, rollbacks: 2, errors: { unavailable: 3, activation: 1 } }),
    ],
    [
      "failed without rollback: rollbacks unchanged",
      history(),
      { kind: "failed", errorKind: "nix", rolledBack: false },
      history({ upToDate: false, lastCheckAt: AT, deployments: { success: 5, failed: 3 }, rollbacks: 1, errors: { unavailable: 3, nix: 1 } }),
    ],
    [
      "failed again with a kind already counted: that kind +1",
      history({ errors: { activation: 4 } }),
      { kind: "failed", errorKind: "activation", rolledBack: true },
      history({ upToDate: false, lastCheckAt: AT, deployments: { success: 5, failed: 3 }, rollbacks: 2, errors: { activation: 5 } }),
    ],
    [
      "unchanged and current: up to date, last success now, no counter moves",
      history({ upToDate: false }),
      { kind: "unchanged", upToDate: true },
      history({ upToDate: true, lastCheckAt: AT, lastSuccessAt: AT }),
    ],
    [
      "unchanged but not current (held, skipped, changed by hand): not up to date, last success kept",
      history(),
      { kind: "unchanged", upToDate: false },
      history({ upToDate: false, lastCheckAt: AT }),
    ],
    [
      "a known-bad build skipped: known-bad skips +1, not up to date, last success kept",
      history({ knownBadSkips: 2 }),
      { kind: "unchanged", upToDate: false, knownBadSkip: true },
      history({ upToDate: false, lastCheckAt: AT, knownBadSkips: 3 }),
    ],
    [
      "error (Hydra down): errors[kind] +1, up_to_date keeps 1, last success kept",
      history({ upToDate: true }),
      { kind: "error", errorKind: "unavailable" },
      history({ upToDate: true, lastCheckAt: AT, errors: { unavailable: 4 } }),
    ],
    [
      "error (invalid response): up_to_date keeps 0",
      history({ upToDate: false }),
      { kind: "error", errorKind: "invalid_response" },
      history({ upToDate: false, lastCheckAt: AT, errors: { unavailable: 3, invalid_response: 1 } }),
    ],
    [
      "error (not ready) on a profile never checked: only the check time and the error",
      metrics({ upToDate: false, lastCheckAt: null, lastSuccessAt: null, deployments: { success: 0, failed: 0 }, rollbacks: 0, errors: {} }),
      { kind: "error", errorKind: "not_ready" },
      metrics({ upToDate: false, lastCheckAt: AT, lastSuccessAt: null, deployments: { success: 0, failed: 0 }, rollbacks: 0, errors: { not_ready: 1 } }),
    ],
  ];
  for (const [what, before, pass, after] of cases) {
    it(what, () => {
      const frozen = structuredClone(before);
      assert.deepEqual(accountPass(before, pass, AT), after);
      assert.deepEqual(before, frozen, "the metrics passed in are not changed");
    });
  }

  it("counters only grow over a run of passes", () => {
    const passes: PassRecord[] = [
      { kind: "deployed" },
      { kind: "error", errorKind: "unavailable" },
      { kind: "failed", errorKind: "activation", rolledBack: true },
      { kind: "unchanged", upToDate: false },
      { kind: "deployed" },
    ];
    const end = passes.reduce((m, p) => accountPass(m, p, AT), history());
    assert.deepEqual(end.deployments, { success: 7, failed: 3 });
    assert.equal(end.rollbacks, 2);
    assert.deepEqual(end.errors, { unavailable: 4, activation: 1 });
    assert.equal(end.upToDate, true);
  });
});

describe("countersChanged (worth a state-file write)", () => {
  const base = history();
  const cases: [what: string, other: MetricsState, changed: boolean][] = [
    ["the same metrics", history(), false],
    ["only the last check time", history({ lastCheckAt: AT }), false],
    ["only the last success time", history({ lastSuccessAt: AT }), false],
    ["up_to_date", history({ upToDate: false }), true],
    ["a success", history({ deployments: { success: 6, failed: 2 } }), true],
    ["a failure", history({ deployments: { success: 5, failed: 3 } }), true],
    ["a rollback", history({ rollbacks: 2 }), true],
    ["an error count", history({ errors: { unavailable: 4 } }), true],
    ["a new error kind", history({ errors: { unavailable: 3, nix: 1 } }), true],
    ["a known-bad skip", history({ knownBadSkips: 1 }), true],
  ];
  for (const [what, other, changed] of cases) {
    it(`${changed ? "changed" : "unchanged"}: ${what}`, () => {
      assert.equal(countersChanged(base, other), changed);
      assert.equal(countersChanged(other, base), changed, "symmetric");
    });
  }

  it("an idle pass (current, nothing moved) is not worth a write; a first error is", () => {
    const idle = accountPass(base, { kind: "unchanged", upToDate: true }, AT);
    assert.equal(countersChanged(base, idle), false);
    assert.equal(countersChanged(base, accountPass(base, { kind: "error", errorKind: "not_ready" }, AT)), true);
  });
});
