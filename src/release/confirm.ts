/**
 * What a verified release must agree with before hail deploys it (docs/signed-releases.md):
 * the gate job it was signed for, and Hydra's own answer for the build it names. Pure: the
 * deploy pass fetches, these decide.
 */
import { ReleaseRejected } from "../errors.js";
import type { ReleaseManifest } from "./manifest.js";

export interface GateJob {
  project: string;
  jobset: string;
  job: string;
}

/** A manifest signed for another gate, jobset or project is refused: a key signs one job's releases. */
export function checkReleaseJob(manifest: ReleaseManifest, gate: GateJob, url: string): void {
  const want = `${gate.project}/${gate.jobset}/${gate.job}`;
  if (manifest.job === want) return;
  throw new ReleaseRejected("job-mismatch", url, `the manifest is for job ${manifest.job}, not for ${want} that --gate-job names`).withHint(
    "point --release-manifest at this gate's release, or --gate-job at the job the release is for",
  );
}

/** The out path the release names for `constituent`; a release without it approves nothing here. */
export function signedPathOf(manifest: ReleaseManifest, constituent: string, url: string): string {
  const path = Object.hasOwn(manifest.constituents, constituent) ? manifest.constituents[constituent] : undefined;
  if (path !== undefined) return path;
  const names = Object.keys(manifest.constituents).slice(0, 20).join(", ");
  throw new ReleaseRejected("manifest-invalid", url, `the manifest of gate build ${manifest.build} names no constituent "${constituent}" (it names: ${names})`).withHint(
    "check --constituent, or sign a release that includes it",
  );
}

/**
 * The key and Hydra must agree: the path Hydra resolves for the signed build (with every check
 * a pass makes) is the path the release names. Either alone could be lying.
 */
export function checkHydraAgrees(release: { url: string; build: number; constituent: string; signedPath: string }, hydraPath: string, buildUrl: string): void {
  if (hydraPath === release.signedPath) return;
  throw new ReleaseRejected(
    "hydra-disagrees",
    release.url,
    `Hydra and the release disagree on constituent ${release.constituent} of gate build ${release.build}: ` +
      `the release names ${release.signedPath}, Hydra (${buildUrl}) resolves ${hydraPath}; not deploying either`,
  ).withHint("check Hydra and the release: one of them is not what the release manager signed");
}

/** Hydra does not confirm the signed build (unfinished, failed, another job): its own words, as a disagreement. */
export function hydraDoesNotConfirm(release: { url: string; build: number }, why: string): ReleaseRejected {
  return new ReleaseRejected("hydra-disagrees", release.url, `Hydra does not confirm signed gate build ${release.build}: ${why}`);
}

/** What plan, status, logs and metrics say of the release a pass went by. */
export interface ReleaseView {
  url: string;
  build: number;
  principal: string;
  fingerprint: string;
  /** RFC 3339, or null when the manifest never expires */
  expires: string | null;
  /** the newer gate build Hydra has finished that no release signs yet, or null */
  unsignedBuildId: number | null;
}

/** "signed gate build 100 by alice (SHA256:…), expires …" for plan and status. */
export function describeRelease(r: Pick<ReleaseView, "build" | "principal" | "fingerprint" | "expires">): string {
  return `signed gate build ${r.build} by ${r.principal} (${r.fingerprint})${r.expires === null ? "" : `, expires ${r.expires}`}`;
}

/** The reason plan, status and the log give while the host keeps the signed build. */
export function waitingReason(unsignedBuildId: number, signedBuild: number): string {
  return `waiting for a signed release: gate build ${unsignedBuildId} is newer than signed build ${signedBuild}`;
}
