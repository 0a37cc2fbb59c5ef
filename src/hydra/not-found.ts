/**
 * Hydra answers 404 for three different things (its controllers Job.pm, Jobset.pm, Root.pm):
 * no successful build yet, a project, jobset or job that does not exist, and a route an old
 * Hydra does not have. Only the first is worth waiting for. This file reads Hydra's texts and,
 * with a request or two on the error path only, tells them apart.
 */
import { HailError, NotReady, UsageError } from "../errors.js";
import type { JobUrl } from "./job-url.js";

/** Job.pm, when no build qualifies, and also when nobody builds a job of that name. */
export const NO_SUCCESSFUL_BUILD = "There is no successful build to redirect to.";
/** Root.pm `default`: a route this Hydra does not have. */
export const PAGE_NOT_FOUND = "Page not found.";
const MISSING_JOBSET = /^Jobset ‘(.*)’ doesn't exist\.$/;
const MISSING_PROJECT = /^Project ‘(.*)’ doesn't exist\.$/;

/** A 404 from Hydra, with its own text when it sent one (`{"error": "…"}`). */
export class HydraNotFound extends NotReady {
  constructor(
    readonly url: string,
    readonly hydraText: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** The requests that tell a typo from "nothing green yet"; a client without them gets no diagnosis. */
export interface NotFoundProbe {
  /** GET /jobset/P/JS as JSON: resolves when it exists, throws HydraNotFound when not. */
  getJobset?(job: JobUrl): Promise<void>;
  /** GET /api/latestbuilds: the job names of the newest finished builds of the jobset (or of one job). */
  latestBuildJobs?(job: JobUrl, opts: { onlyThisJob: boolean; count: number }): Promise<string[]>;
}

/** How many recent builds are asked for to list a jobset's jobs. */
const RECENT_BUILDS = 500;
const MAX_LISTED = 30;

/** The error for a 404 from `JOB/latest[-finished]`: a configuration error, or the NotReady as it was. */
export async function diagnoseLatest404(probe: NotFoundProbe, job: JobUrl, err: HydraNotFound): Promise<HailError> {
  const text = err.hydraText;
  if (text !== null && MISSING_JOBSET.test(text)) return missingJobset(probe, job, err);
  if (text === NO_SUCCESSFUL_BUILD) return (await missingJob(probe, job, err)) ?? err;
  return err;
}

/** `/build/ID/constituents` answered "Page not found.": a Hydra from before the route existed. */
export function constituents404(err: HydraNotFound): HailError {
  if (err.hydraText !== PAGE_NOT_FOUND) return err;
  return new UsageError(
    `configuration error: ${err.url} answers 404 "${PAGE_NOT_FOUND}": this Hydra is too old for --gate-job ` +
      "(it has no /build/ID/constituents, added to Hydra in late 2021); upgrade Hydra, or deploy a plain job with --job-uri",
  );
}

async function missingJobset(probe: NotFoundProbe, job: JobUrl, err: HydraNotFound): Promise<HailError> {
  const check = "check the project and jobset in the job URL";
  if (probe.getJobset !== undefined) {
    try {
      await probe.getJobset(job);
    } catch (probeErr) {
      if (probeErr instanceof HydraNotFound && probeErr.hydraText !== null && MISSING_PROJECT.test(probeErr.hydraText)) {
        return new UsageError(`configuration error: Hydra has no project "${job.project}" (${probeErr.url}: Hydra says "${probeErr.hydraText}"); ${check}`);
      }
    }
  }
  return new UsageError(
    `configuration error: Hydra has no jobset "${job.jobset}" in project "${job.project}" (${err.url}: Hydra says "${err.hydraText ?? ""}"); ${check}`,
  );
}

/**
 * Hydra answers a job name nobody builds as it answers a job with no successful build. The
 * newest finished builds of the jobset tell them apart: when some job of the jobset has
 * finished builds and this one never had one, the name is wrong. When Hydra cannot list them
 * (an error, an empty jobset), the 404 stays "not ready".
 */
async function missingJob(probe: NotFoundProbe, job: JobUrl, err: HydraNotFound): Promise<UsageError | null> {
  if (probe.latestBuildJobs === undefined) return null;
  let jobs: string[];
  try {
    if ((await probe.latestBuildJobs(job, { onlyThisJob: true, count: 1 })).length > 0) return null;
    jobs = await probe.latestBuildJobs(job, { onlyThisJob: false, count: RECENT_BUILDS });
  } catch (probeErr) {
    if (probeErr instanceof HailError) return null;
    throw probeErr;
  }
  const names = [...new Set(jobs)].sort();
  if (names.length === 0) return null;
  const shown = names.slice(0, MAX_LISTED).join(", ") + (names.length > MAX_LISTED ? `, and ${names.length - MAX_LISTED} more` : "");
  return new UsageError(
    `configuration error: jobset "${job.project}/${job.jobset}" has no job "${job.job}" (${err.url}: no build of it ever finished); ` +
      `jobs with recent builds there: ${shown}. Check the job name in the job URL`,
  );
}
