// resolve: The decision for a --release-manifest target: deploy only what a release key signed.
import { ReleaseRejected } from "../errors.js";
import type { ReleaseView } from "../release/confirm.js";
import { waitingReason } from "../release/confirm.js";
import type { State } from "../state/schema.js";
import type { Decision } from "./decide.js";

/**
 * A pass's decision in the light of the release that picked its build. An older signed build
 * than the one deployed is a replayed release, refused (65) where never-backwards would only
 * stay; a profile at the signed build while Hydra has a newer, unsigned one keeps its build and
 * says it waits. Pure.
 */
export function decideSigned(decision: Decision, release: ReleaseView): Decision {
  if (decision.kind === "stay") {
    throw new ReleaseRejected(
      "replay",
      release.url,
      `the release signs gate build ${release.build}, older than gate build ${decision.deployedId} that hail last deployed ` +
        "(an old release served again?); nothing deployed",
    ).withHint("to go back to it on purpose, run once with --allow-downgrade");
  }
  if (decision.kind === "up-to-date" && release.unsignedBuildId !== null) {
    return { kind: "unsigned", offeredId: release.unsignedBuildId, signedId: release.build, reason: waitingReason(release.unsignedBuildId, release.build) };
  }
  return decision;
}

/**
 * The release as the state file keeps it, for status and the metrics of later runs. Waiting
 * starts when a newer gate build is first seen unsigned and keeps its start while the signed
 * build stays the same (the alert is about how long the host has waited, not for which build).
 */
export function releaseRecord(before: State["release"], release: ReleaseView, at: string): NonNullable<State["release"]> {
  const { url, build, principal, fingerprint, expires, unsignedBuildId } = release;
  const since = before?.build === build ? (before.waiting?.since ?? at) : at;
  const waiting = unsignedBuildId === null ? null : { gateBuildId: unsignedBuildId, since };
  return { url, build, principal, fingerprint, expires, waiting };
}
