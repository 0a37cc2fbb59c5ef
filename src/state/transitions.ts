// state: Pure state changes: each takes the state read just before and returns the one to write.
import { basename } from "node:path";
import type { ProfileBefore } from "../profile/links.js";
import type { Attempt, State } from "./schema.js";
import { MAX_FAILED_MARKS } from "./schema.js";

/** Pure state changes: each takes the state read just before and returns the one to write. */

/** The fields of a resolved build (resolve/resolution.ts) that the state file records as they are. */
type ResolvedBuild = Pick<Attempt, "storePath" | "buildId" | "gateBuildId" | "evals" | "job" | "stoptime">;

export function buildRef(r: ResolvedBuild, source: string) {
  return { storePath: r.storePath, buildId: r.buildId, gateBuildId: r.gateBuildId, evals: r.evals, job: r.job, stoptime: r.stoptime, source };
}

export type BuildRef = ReturnType<typeof buildRef>;

/** Written before the first command of a deployment: a crash after it is noticed on restart. */
export function startAttempt(state: State, ref: BuildRef, previous: ProfileBefore, at: string): State {
  const before = { previousGeneration: previous.generation, previousLink: previous.link, previousStorePath: previous.storePath };
  return {
    ...state,
    lastAttempt: { ...ref, startedAt: at, endedAt: null, result: null, error: null, ...before },
  };
}

/** What the profile was before `attempt`; a file from before previousLink existed names the generation link. */
export function profileBeforeAttempt(attempt: Attempt, profilePath: string): ProfileBefore {
  const generationLink = attempt.previousGeneration === null ? null : `${basename(profilePath)}-${attempt.previousGeneration}-link`;
  return { generation: attempt.previousGeneration, link: attempt.previousLink ?? generationLink, storePath: attempt.previousStorePath };
}

/** The attempt stopped before the switch because a hold was given meanwhile. */
export function recordHeld(state: State, reason: string, at: string): State {
  return { ...state, lastAttempt: state.lastAttempt && { ...state.lastAttempt, endedAt: at, result: "interrupted", error: reason } };
}

export function recordSuccess(state: State, ref: BuildRef, at: string): State {
  return {
    ...state,
    lastDeployed: { ...ref, at },
    lastAttempt: state.lastAttempt && { ...state.lastAttempt, endedAt: at, result: "success", error: null },
    lastError: null,
    failed: state.failed.filter((f) => f.storePath !== ref.storePath),
  };
}

export function recordFailure(state: State, ref: BuildRef, reason: string, kind: string, at: string): State {
  const failed = [...state.failed.filter((f) => f.storePath !== ref.storePath), { storePath: ref.storePath, buildId: ref.buildId, reason, at }];
  return {
    ...state,
    lastAttempt: state.lastAttempt && { ...state.lastAttempt, endedAt: at, result: "failed", error: reason },
    lastError: { kind, message: reason, at },
    failed: failed.slice(-MAX_FAILED_MARKS),
  };
}

/** A run died before switching the profile: nothing to undo, the next pass tries again. */
export function recordInterrupted(state: State, at: string): State {
  return {
    ...state,
    lastAttempt: state.lastAttempt && {
      ...state.lastAttempt,
      endedAt: at,
      result: "interrupted",
      error: "hail stopped before the profile was switched",
    },
  };
}

export function recordError(state: State, kind: string, message: string, at: string): State {
  return { ...state, lastError: { kind, message, at } };
}

export function clearError(state: State): State {
  return state.lastError === null ? state : { ...state, lastError: null };
}

export function setHold(state: State, reason: string | null, until: string | null, at: string): State {
  return { ...state, hold: { reason, since: at, until } };
}

export function releaseHold(state: State, clearFailed: boolean): State {
  return { ...state, hold: null, failed: clearFailed ? [] : state.failed };
}

/** An attempt whose run died before recording its end. */
export function interruptedAttempt(state: State) {
  return state.lastAttempt !== null && state.lastAttempt.endedAt === null ? state.lastAttempt : null;
}

/** The Hydra build id of `storePath` when it is what hail last deployed; null otherwise. */
export function deployedBuildIdAt(state: State, storePath: string | null): number | null {
  return state.lastDeployed !== null && state.lastDeployed.storePath === storePath ? state.lastDeployed.buildId : null;
}

/** A transient error (the binary cache unreachable) ended the attempt: no failure mark, retried next poll. */
export function recordTransient(state: State, kind: string, message: string, at: string): State {
  return {
    ...state,
    lastAttempt: state.lastAttempt && { ...state.lastAttempt, endedAt: at, result: "interrupted", error: message },
    lastError: { kind, message, at },
  };
}
