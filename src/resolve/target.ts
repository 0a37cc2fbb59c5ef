// resolve: What one target deploys (a gate constituent or a job, into a profile) and how its source
// is named.
import type { JobUrl } from "../hydra/job-url.js";
import type { ProfileRef } from "../profile/path.js";
import type { NixosConfig } from "../nixos/config.js";

/** What one hail target deploys: a gate constituent, or a plain job (the original hail). */
export type Source =
  | { kind: "gate"; job: JobUrl; constituent: string }
  | { kind: "job"; job: JobUrl };

export interface Target {
  source: Source;
  profile: ProfileRef;
  /** which output of the selected build */
  output: string;
  /** --nixos: the output is a NixOS system, activated with its bin/switch-to-configuration */
  nixos?: NixosConfig;
  /** --home-manager: the output is a Home Manager generation, activated with its own `activate` */
  homeManager?: true;
  /** --release-manifest with --allowed-signers: deploy only what a release key signed and Hydra confirms */
  release?: ReleaseTarget;
}

export interface ReleaseTarget {
  manifestUrl: string;
  /** the allowed_signers file, read at every pass */
  allowedSigners: string;
}

export function describeSource(source: Source): string {
  return source.kind === "gate"
    ? `${source.job.url} constituent ${source.constituent}`
    : source.job.url;
}

/** Identifies what a target resolves: a state record from another source must not be reused. */
export function sourceKey(target: Target): string {
  return `${describeSource(target.source)} output ${target.output}`;
}
