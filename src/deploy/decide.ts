import type { Resolution } from "./resolve.js";
import type { RolloutPolicy } from "./rollout.js";
import { rolloutNotBefore } from "./rollout.js";

/** What hail remembers about a profile between passes (the state file's view of it). */
export interface DeployMemory {
  lastDeployed: { storePath: string; buildId: number } | null;
  failed: readonly { storePath: string; reason: string; at: string }[];
  hold: { reason: string | null; until: string | null } | null;
}

export const EMPTY_MEMORY: DeployMemory = { lastDeployed: null, failed: [], hold: null };

export type Decision =
  | { kind: "deploy" }
  | { kind: "none" }
  | { kind: "skip"; cause: "failed-before" | "changed-by-hand"; reason: string }
  | { kind: "held"; reason: string }
  | { kind: "wait"; until: string; reason: string };

/** SPEC §2.3: the whole "should this pass touch the profile" question, without I/O. */
export function decide(
  resolution: Resolution,
  currentPath: string | null,
  memory: DeployMemory,
  now: Date,
  rollout: RolloutPolicy | null = null,
): Decision {
  const hold = memory.hold;
  if (hold && (hold.until === null || Date.parse(hold.until) > now.getTime())) {
    const why = hold.reason ? `: ${hold.reason}` : "";
    const until = hold.until ? ` until ${hold.until}` : "";
    return { kind: "held", reason: `profile is held${until}${why}; run \`hail release\` to resume` };
  }
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
  if (currentPath === resolution.storePath) return { kind: "none" };
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
