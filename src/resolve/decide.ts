// resolve: The pure decision of a pass: deploy, up to date, skip, held, stay or wait.
import type { Resolution } from "./resolution.js";
import type { RolloutPolicy } from "./rollout.js";
import { rolloutNotBefore } from "./rollout.js";

/** What hail remembers about a profile between passes (the state file's view of it). */
export interface DeployMemory {
  /** `gateBuildId` and `source` are what "never backwards" compares with (older state files lack them) */
  lastDeployed: { storePath: string; buildId: number; gateBuildId?: number | null; source?: string } | null;
  failed: readonly { storePath: string; reason: string; at: string }[];
  hold: { reason: string | null; until: string | null } | null;
}

export type Decision =
  | { kind: "deploy" }
  | { kind: "up-to-date" }
  | { kind: "skip"; cause: "failed-before" | "changed-by-hand"; reason: string }
  | { kind: "held"; reason: string }
  | { kind: "stay"; cause: "older-than-deployed"; offeredId: number; deployedId: number; reason: string }
  | { kind: "wait"; until: string; reason: string }
  /** --release-manifest: the profile is at the signed build, and Hydra's newer gate build is not signed (resolve/signed-decide.ts) */
  | { kind: "unsigned"; offeredId: number; signedId: number; reason: string };

/** Which target is deciding, so that only its own history counts, and whether it may go back. */
export interface DecidePolicy {
  /** sourceKey() of the target */
  source: string;
  allowDowngrade: boolean;
}

/** The whole "should this pass touch the profile" question (docs/how-it-works.md, "How it works"), without I/O. */
export function decide(
  resolution: Resolution,
  currentPath: string | null,
  memory: DeployMemory,
  now: Date,
  rollout: RolloutPolicy | null = null,
  policy: DecidePolicy | null = null,
): Decision {
  const hold = activeHold(memory.hold, now);
  if (hold) {
    const why = hold.reason ? `: ${hold.reason}` : "";
    const until = hold.until ? ` until ${hold.until}` : "";
    return { kind: "held", reason: `profile is held${until}${why}; run \`hail release\` to resume` };
  }
  const older = policy === null || currentPath === resolution.storePath ? null : olderThanDeployed(resolution, memory, policy);
  if (older) return older;
  // Before "same path": after a failure with --no-rollback the profile holds the failed path,
  // and that is not "up to date".
  const failure = memory.failed.find((f) => f.storePath === resolution.storePath);
  if (failure) {
    return {
      kind: "skip",
      cause: "failed-before",
      reason: `${resolution.storePath} failed to deploy at ${failure.at} (${failure.reason}); waiting for Hydra to offer a different path (\`hail release --clear-failed\` to retry it)`,
    };
  }
  if (currentPath === resolution.storePath) return { kind: "up-to-date" };
  const last = memory.lastDeployed;
  // A missing profile is not an operator's choice to respect (a reinstalled machine, a
  // restored state dir): deploy. To stop deployments, an operator uses `hail hold`.
  if (last && currentPath !== null && currentPath !== last.storePath && resolution.storePath === last.storePath) {
    return {
      kind: "skip",
      cause: "changed-by-hand",
      reason:
        `profile was changed outside hail (now ${currentPath ?? "absent"}, hail last deployed ${last.storePath}); ` +
        `respecting that until Hydra offers a different build`,
    };
  }
  if (rollout) {
    const notBefore = rolloutNotBefore(rollout, resolution.gateBuildId ?? resolution.buildId, resolution.stoptime);
    if (notBefore > now.getTime()) {
      const until = new Date(notBefore).toISOString();
      return {
        kind: "wait",
        until,
        reason: `staged rollout: this host (key ${JSON.stringify(rollout.key)}) deploys build ${resolution.buildId} from ${until}`,
      };
    }
  }
  return { kind: "deploy" };
}

/** The hold while it holds: one with an `until` in the past holds nothing. */
export function activeHold<H extends { until: string | null }>(hold: H | null, now: Date): H | null {
  return hold !== null && (hold.until === null || Date.parse(hold.until) > now.getTime()) ? hold : null;
}

/**
 * Never backwards: Hydra's latest-finished moves back to an older gate build while a build of
 * the newest evaluation is restarted. Build ids only grow, so a lower id than the one hail last
 * deployed for this target is older, whatever its path.
 */
function olderThanDeployed(resolution: Resolution, memory: DeployMemory, policy: DecidePolicy): Decision | null {
  const last = memory.lastDeployed;
  if (policy.allowDowngrade || last === null || last.source !== policy.source) return null;
  const gate = resolution.gateBuildId !== null;
  const offeredId = resolution.gateBuildId ?? resolution.buildId;
  const deployedId = gate ? last.gateBuildId : last.buildId;
  if (deployedId === null || deployedId === undefined || offeredId >= deployedId) return null;
  const what = gate ? "gate build" : "build";
  return {
    kind: "stay",
    cause: "older-than-deployed",
    offeredId,
    deployedId,
    reason:
      `Hydra offers ${what} ${offeredId}, older than ${what} ${deployedId} that hail last deployed ` +
      "(a restarted build makes Hydra answer with an older evaluation); staying until it offers a newer one (--allow-downgrade to follow it)",
  };
}
