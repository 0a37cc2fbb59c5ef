import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resolution } from "../../src/resolve/resolution.js";
import { emptyState, MAX_FAILED_MARKS } from "../../src/state/schema.js";
import type { State } from "../../src/state/schema.js";
import {
  buildRef,
  clearError,
  deployedBuildIdAt,
  interruptedAttempt,
  profileBeforeAttempt,
  recordError,
  recordFailure,
  recordHeld,
  recordInterrupted,
  recordSuccess,
  recordTransient,
  releaseHold,
  setHold,
  startAttempt,
} from "../../src/state/transitions.js";

const T0 = "2026-03-01T10:00:00.000Z";
const T1 = "2026-03-01T10:05:00.000Z";
const PROFILE = "/nix/var/nix/profiles/app";

function resolution(n: number): Resolution {
  return { gateBuildId: 100 + n, buildId: n, job: "release_gate", evals: [n * 10], storePath: `/nix/store/${String(n).padStart(32, "a")}-app`, stoptime: 1_700_000_000 + n };
}

const REF = buildRef(resolution(7), "gate output out");
const BEFORE = { generation: 4, link: "app-4-link", storePath: "/nix/store/bbbb-app" };

function attempting(state: State = emptyState("app", PROFILE)): State {
  return startAttempt(state, REF, BEFORE, T0);
}

describe("state transitions", () => {
  it("buildRef keeps what identifies a build and where it was resolved from", () => {
    assert.deepEqual(REF, {
      storePath: resolution(7).storePath,
      buildId: 7,
      gateBuildId: 107,
      evals: [70],
      job: "release_gate",
      stoptime: 1_700_000_007,
      source: "gate output out",
    });
  });

  it("startAttempt records an open attempt with what the profile was before", () => {
    const state = attempting();
    assert.deepEqual(state.lastAttempt, {
      ...REF,
      startedAt: T0,
      endedAt: null,
      result: null,
      error: null,
      previousGeneration: 4,
      previousLink: "app-4-link",
      previousStorePath: "/nix/store/bbbb-app",
    });
    assert.equal(interruptedAttempt(state), state.lastAttempt, "an open attempt is an interrupted one to a later run");
  });

  it("recordSuccess ends the attempt, records the deployment, clears the error and this path's failure mark", () => {
    const failedBefore = recordFailure(attempting(), REF, "activation failed", "activation", T0);
    const other = { storePath: "/nix/store/cccc-other", buildId: 3, reason: "x", at: T0 };
    const state = recordSuccess(attempting({ ...failedBefore, failed: [...failedBefore.failed, other] }), REF, T1);
    assert.deepEqual(state.lastDeployed, { ...REF, at: T1 });
    assert.equal(state.lastAttempt?.result, "success");
    assert.equal(state.lastAttempt?.endedAt, T1);
    assert.equal(state.lastError, null);
    assert.deepEqual(state.failed, [other]);
    assert.equal(interruptedAttempt(state), null);
  });

  it("recordFailure marks the path failed (once), records the error and ends the attempt", () => {
    const once = recordFailure(attempting(), REF, "exit 1", "activation", T0);
    const twice = recordFailure(attempting(once), REF, "exit 2", "activation", T1);
    assert.deepEqual(twice.failed, [{ storePath: REF.storePath, buildId: 7, reason: "exit 2", at: T1 }]);
    assert.deepEqual(twice.lastError, { kind: "activation", message: "exit 2", at: T1 });
    assert.equal(twice.lastAttempt?.result, "failed");
    assert.equal(twice.lastAttempt?.error, "exit 2");
    assert.equal(twice.lastDeployed, null);
  });

  it(`recordFailure keeps only the newest ${MAX_FAILED_MARKS} failure marks`, () => {
    let state = emptyState("app", PROFILE);
    for (let n = 1; n <= MAX_FAILED_MARKS + 3; n++) state = recordFailure(state, buildRef(resolution(n), ""), `fail ${n}`, "activation", T0);
    assert.equal(state.failed.length, MAX_FAILED_MARKS);
    assert.equal(state.failed[0]?.buildId, 4);
    assert.equal(state.failed.at(-1)?.buildId, MAX_FAILED_MARKS + 3);
  });

  it("recordTransient ends the attempt as interrupted with the error, and marks nothing failed", () => {
    const state = recordTransient(attempting(), "cache_unavailable", "cache down", T1);
    assert.equal(state.lastAttempt?.result, "interrupted");
    assert.equal(state.lastAttempt?.error, "cache down");
    assert.deepEqual(state.lastError, { kind: "cache_unavailable", message: "cache down", at: T1 });
    assert.deepEqual(state.failed, []);
  });

  it("recordInterrupted and recordHeld end the attempt as interrupted with their reason", () => {
    const interrupted = recordInterrupted(attempting(), T1);
    assert.equal(interrupted.lastAttempt?.result, "interrupted");
    assert.equal(interrupted.lastAttempt?.error, "hail stopped before the profile was switched");
    assert.equal(interrupted.lastAttempt?.endedAt, T1);
    const held = recordHeld(attempting(), "held by ops", T1);
    assert.equal(held.lastAttempt?.result, "interrupted");
    assert.equal(held.lastAttempt?.error, "held by ops");
    assert.equal(interruptedAttempt(held), null);
  });

  it("ending an attempt when there is none leaves lastAttempt empty", () => {
    const empty = emptyState("app", PROFILE);
    assert.equal(recordInterrupted(empty, T1).lastAttempt, null);
    assert.equal(recordHeld(empty, "x", T1).lastAttempt, null);
    assert.equal(recordTransient(empty, "k", "m", T1).lastAttempt, null);
  });

  it("recordError and clearError set and clear the last error; clearError keeps a clean state as it is", () => {
    const state = recordError(emptyState("app", PROFILE), "hydra_unavailable", "502", T0);
    assert.deepEqual(state.lastError, { kind: "hydra_unavailable", message: "502", at: T0 });
    assert.equal(clearError(state).lastError, null);
    const clean = emptyState("app", PROFILE);
    assert.equal(clearError(clean), clean);
  });

  it("setHold and releaseHold, which clears the failure marks only when asked", () => {
    const held = setHold(recordFailure(emptyState("app", PROFILE), REF, "x", "activation", T0), "freeze", T1, T0);
    assert.deepEqual(held.hold, { reason: "freeze", since: T0, until: T1 });
    assert.equal(releaseHold(held, false).hold, null);
    assert.equal(releaseHold(held, false).failed.length, 1);
    assert.deepEqual(releaseHold(held, true).failed, []);
  });

  it("deployedBuildIdAt names the build only for the path last deployed", () => {
    const state = recordSuccess(attempting(), REF, T1);
    assert.equal(deployedBuildIdAt(state, REF.storePath), 7);
    assert.equal(deployedBuildIdAt(state, "/nix/store/other"), null);
    assert.equal(deployedBuildIdAt(state, null), null);
    assert.equal(deployedBuildIdAt(emptyState("app", PROFILE), REF.storePath), null);
  });
});

describe("profileBeforeAttempt", () => {
  const attempt = attempting().lastAttempt!;
  it("gives back what startAttempt recorded", () => {
    assert.deepEqual(profileBeforeAttempt(attempt, PROFILE), BEFORE);
  });

  it("names the generation link for a file written before previousLink existed", () => {
    assert.deepEqual(profileBeforeAttempt({ ...attempt, previousLink: null, previousStorePath: null }, PROFILE), {
      generation: 4,
      link: "app-4-link",
      storePath: null,
    });
  });

  it("a profile that did not exist has no link", () => {
    const none = { ...attempt, previousGeneration: null, previousLink: null, previousStorePath: null };
    assert.deepEqual(profileBeforeAttempt(none, PROFILE), { generation: null, link: null, storePath: null });
  });
});
