// state: The state file's schema (version 1): what hail remembers of a profile between passes.
import * as z from "zod";

/** The state file, version 1 (docs/reference.md, "Files"). Written by hail only; read back through this schema. */
const isoTime = z.iso.datetime({ offset: true });

const buildRef = {
  storePath: z.string(),
  buildId: z.number().int(),
  gateBuildId: z.number().int().nullable(),
  evals: z.array(z.number().int()),
  job: z.string().default(""),
  /** the gate's (or job's) stoptime, unix seconds */
  stoptime: z.number().nullable().default(null),
  /** which target resolved it (URL, constituent, output): a changed flag must not reuse it */
  source: z.string().default(""),
};

const count = z.number().int().nonnegative();

export const MetricsStateSchema = z.object({
  upToDate: z.boolean(),
  lastCheckAt: isoTime.nullable(),
  lastSuccessAt: isoTime.nullable(),
  deployments: z.object({ success: count, failed: count }),
  rollbacks: count,
  errors: z.record(z.string(), count),
  hookFailures: count.default(0),
  /** passes that skipped the offered build because it failed to deploy here before */
  knownBadSkips: count.default(0),
});
export type MetricsState = z.infer<typeof MetricsStateSchema>;

function emptyMetrics(): MetricsState {
  return { upToDate: false, lastCheckAt: null, lastSuccessAt: null, deployments: { success: 0, failed: 0 }, rollbacks: 0, errors: {}, hookFailures: 0, knownBadSkips: 0 };
}

/** Loose: keys a newer hail added are kept when this one rewrites the file. */
export const StateSchema = z.looseObject({
  version: z.literal(1),
  profile: z.string(),
  profilePath: z.string(),
  /** what hail last put in place and saw succeed */
  lastDeployed: z.object({ ...buildRef, at: isoTime }).nullable(),
  /** the last deployment attempt; `endedAt: null` means a run died during it */
  lastAttempt: z
    .object({
      ...buildRef,
      startedAt: isoTime,
      endedAt: isoTime.nullable(),
      result: z.enum(["success", "failed", "interrupted"]).nullable(),
      error: z.string().nullable(),
      previousGeneration: z.number().int().nullable(),
      /** the profile link's own target before the attempt (a plain link has no generation) */
      previousLink: z.string().nullable().default(null),
      previousStorePath: z.string().nullable().default(null),
    })
    .nullable(),
  /** the last pass that ended in an error of any kind, cleared by the next good pass */
  lastError: z.object({ kind: z.string(), message: z.string(), at: isoTime }).nullable(),
  /** paths whose deployment failed: not tried again until Hydra offers another path */
  failed: z.array(z.object({ storePath: z.string(), buildId: z.number().int(), reason: z.string(), at: isoTime })),
  hold: z.object({ reason: z.string().nullable(), since: isoTime, until: isoTime.nullable() }).nullable(),
  /** the process group of a running activation: a run killed during it leaves it here */
  activation: z
    .object({ pgid: z.number().int().positive(), processStart: z.string().nullable(), startedAt: isoTime, bootId: z.string().nullable().default(null) })
    .nullable()
    .default(null),
  /** the config file whose target this profile is, so that removing the target retires it */
  managedBy: z.string().nullable().default(null),
  /** set once hail ran bin/deactivate for a target removed from its config file */
  retiredAt: isoTime.nullable().default(null),
  /** --nixos: a system made the boot default waits for a reboot (in the window, if any); `changed`: why */
  rebootPending: z
    .object({
      storePath: z.string(),
      changed: z.array(z.string()),
      since: isoTime,
      /** reboot commands that failed for this mark, and when the next may run (nixos/reboot.ts) */
      failures: count.default(0),
      retryAt: isoTime.nullable().default(null),
    })
    .nullable()
    .default(null),
  /** --release-manifest: the release the last pass verified, and since when a newer gate build waits for a signature */
  release: z
    .object({
      url: z.string(),
      build: z.number().int(),
      principal: z.string(),
      fingerprint: z.string(),
      expires: isoTime.nullable(),
      waiting: z.object({ gateBuildId: z.number().int(), since: isoTime }).nullable(),
    })
    .nullable()
    .default(null),
  /** what the metrics file reports, kept here so counters survive one-shot runs and restarts */
  metrics: MetricsStateSchema.default(emptyMetrics),
});

export type State = z.infer<typeof StateSchema>;
export type Attempt = NonNullable<State["lastAttempt"]>;

export function emptyState(profile: string, profilePath: string): State {
  return {
    version: 1,
    profile,
    profilePath,
    lastDeployed: null,
    lastAttempt: null,
    lastError: null,
    failed: [],
    hold: null,
    activation: null,
    managedBy: null,
    retiredAt: null,
    rebootPending: null,
    release: null,
    metrics: emptyMetrics(),
  };
}

/** Old marks are dropped so the file stays small; the newest ones are the ones that matter. */
export const MAX_FAILED_MARKS = 20;
