/** Hydra builds and resolutions for the pure deploy tests: complete shapes, override what matters. */
import type { DeployMemory } from "../../src/resolve/decide.js";
import type { Resolution } from "../../src/resolve/resolution.js";
import type { HydraBuild } from "../../src/hydra/schema.js";

/** Valid 32-character Nix base32 hashes (no e, o, u, t). */
export const HASH = {
  a: "l9r346p3d25vs4g5v37f3r3f28js97kb",
  b: "0123456789abcdfghijklmnpqrsvwxyz",
  c: "zyxwvsrqpnmlkjihgfdcba9876543210",
} as const;

/** A profile hail has never deployed to: no history, no hold. */
export const EMPTY_MEMORY: DeployMemory = { lastDeployed: null, failed: [], hold: null };

export function storePath(hash: string, name: string, storeDir = "/nix/store"): string {
  return `${storeDir}/${hash}-${name}`;
}

/** A finished, successful build of `acme/production/<job>` with one `out` output. */
export function hydraBuild(fields: Partial<HydraBuild> = {}): HydraBuild {
  const job = fields.job ?? "app-server";
  return {
    id: 281735,
    finished: true,
    buildstatus: 0,
    project: "acme",
    jobset: "production",
    job,
    system: "x86_64-linux",
    nixname: `${job}-1.0`,
    releasename: null,
    timestamp: 1_700_000_000,
    starttime: 1_700_000_100,
    stoptime: 1_700_000_200,
    jobsetevals: [19022],
    buildoutputs: { out: { path: storePath(HASH.a, `${job}-1.0`) } },
    ...fields,
  };
}

/** A green aggregate gate build sharing eval 19022 with the default constituent. */
export function gateBuild(fields: Partial<HydraBuild> = {}): HydraBuild {
  return hydraBuild({
    id: 281734,
    job: "release_gate",
    nixname: "release_gate",
    stoptime: 1_700_000_900,
    jobsetevals: [19022, 19017],
    buildoutputs: { out: { path: storePath(HASH.c, "release_gate") } },
    ...fields,
  });
}

export function resolution(fields: Partial<Resolution> = {}): Resolution {
  return {
    gateBuildId: 281734,
    buildId: 281735,
    job: "app-server",
    evals: [19017, 19022],
    storePath: storePath(HASH.a, "app-server-1.0"),
    stoptime: 1_700_000_900,
    ...fields,
  };
}
