// resolve: A Hydra build resolved into the store path to deploy, with every check on the way.
import { InvalidResponse, NotReady } from "../errors.js";
import type { HydraBuild } from "../hydra/schema.js";
import { checkStorePath } from "./store-path.js";
import { cutShort, describeIds, describeNames, newestIds } from "./summary.js";

/** Evaluation ids kept of a build (newest first): the state file and `plan` show these. */
export const EVALS_KEPT = 100;

/** The build hail would deploy, and where it came from. */
export interface Resolution {
  /** the aggregate gate build; null in --job-uri mode */
  gateBuildId: number | null;
  buildId: number;
  job: string;
  /** the gate's (or job's) newest EVALS_KEPT evaluation ids, ascending */
  evals: number[];
  storePath: string;
  /** the gate's (or job's) stoptime, unix seconds */
  stoptime: number | null;
}

const BUILD_STATUS: Record<number, string> = {
  1: "failed",
  2: "dependency failed",
  3: "aborted",
  4: "cancelled",
  6: "failed with output",
  7: "timed out",
  9: "unsupported system",
  10: "log limit exceeded",
  11: "output size limit exceeded",
  12: "non-deterministic",
};

/** `finished` first: a restarted build keeps its old buildstatus until it finishes again. */
export function checkSucceeded(build: HydraBuild, what: string, url: string): void {
  if (!build.finished) {
    throw new NotReady(`${what} build ${build.id} (${url}) has not finished yet; waiting`);
  }
  if (build.buildstatus !== 0) {
    const status = build.buildstatus === null ? "unknown" : (BUILD_STATUS[build.buildstatus] ?? "not successful");
    throw new NotReady(
      `${what} build ${build.id} (${url}) did not succeed (buildstatus ${build.buildstatus}: ${status}); ` +
        `not deploying it, waiting for a newer successful build`,
    );
  }
}

/**
 * The build `latest` led to must be of the job asked for (after a followed rename, of the job
 * Hydra moved it to): a build of another project, jobset or job is a proxy or cache mixing
 * answers up, and deploying it would deploy the wrong software.
 */
export function checkBuildIsOf(build: HydraBuild, job: { project: string; jobset: string; job: string }, what: string, url: string): void {
  const want = `${job.project}/${job.jobset}/${job.job}`;
  const got = `${build.project}/${build.jobset}/${build.job}`;
  if (want !== got) {
    throw new InvalidResponse(url, `${what} build ${build.id} is of ${cutShort(got, 300)}, not of ${want} that hail asked for; not deploying it`);
  }
}

function selectConstituent(
  gate: HydraBuild,
  constituents: readonly HydraBuild[],
  name: string,
  url: string,
): HydraBuild {
  const found = constituents.filter((c) => c.job === name);
  const [first, second] = found;
  if (first !== undefined && second !== undefined) {
    // Never "first wins": which of two builds is meant cannot be known.
    throw new InvalidResponse(
      url,
      `gate build ${gate.id} has ${found.length} constituents named "${name}" (builds ${describeIds(found.map((c) => c.id), " and ")}); ` +
        "not deploying either; Hydra should never list two",
    );
  }
  if (first !== undefined) return first;
  const names = constituents.map((c) => c.job);
  const there = names.length === 0 ? "it has none: is it an aggregate job?" : `it has: ${describeNames(names)}`;
  throw new InvalidResponse(
    url,
    `gate build ${gate.id} has no constituent named "${name}"; ${there}. Check --constituent ` +
      "(Hydra lists jobs that share one derivation once, under the shortest of their names)",
  );
}

/** Linear: a Set of the gate's evals (a million ids each side was hours of `includes`). */
export function checkSharedEval(gate: HydraBuild, constituent: HydraBuild, url: string): void {
  const gateEvals = new Set(gate.jobsetevals);
  if (!constituent.jobsetevals.some((e) => gateEvals.has(e))) {
    throw new InvalidResponse(
      url,
      `constituent build ${constituent.id} shares no evaluation with gate build ${gate.id} ` +
        `(gate evals ${describeIds(gate.jobsetevals)}, constituent evals ${describeIds(constituent.jobsetevals)})`,
    );
  }
}

function selectOutputPath(build: HydraBuild, output: string, storeDir: string, url: string): string {
  const entry = Object.hasOwn(build.buildoutputs, output) ? build.buildoutputs[output] : undefined;
  if (!entry) {
    const names = Object.keys(build.buildoutputs);
    throw new InvalidResponse(url, `build ${build.id} has no output "${output}" (it has: ${describeNames(names) || "none"})`).withHint("check --output");
  }
  // A content-addressed derivation's path is known only once it is built and registered:
  // not bad data, nothing to mark bad, a build to ask about again at the next poll.
  if (entry.path === null) {
    throw new NotReady(`build ${build.id} (${url}) output "${output}": output path not known yet (content-addressed derivation); waiting`);
  }
  return checkStorePath(entry.path, storeDir, url);
}

/** Gate → constituent → output, each step checked (docs/how-it-works.md, "How it works", step 2). */
export function resolveGateBuild(
  gate: HydraBuild,
  constituents: readonly HydraBuild[],
  opts: { constituent: string; output: string; storeDir: string; gateUrl: string; constituentsUrl: string },
): Resolution {
  checkSucceeded(gate, "gate", opts.gateUrl);
  const chosen = selectConstituent(gate, constituents, opts.constituent, opts.constituentsUrl);
  checkSucceeded(chosen, `constituent ${opts.constituent}`, opts.constituentsUrl);
  checkSharedEval(gate, chosen, opts.constituentsUrl);
  return {
    gateBuildId: gate.id,
    buildId: chosen.id,
    job: chosen.job,
    evals: newestIds(gate.jobsetevals, EVALS_KEPT),
    storePath: selectOutputPath(chosen, opts.output, opts.storeDir, opts.constituentsUrl),
    stoptime: gate.stoptime,
  };
}

/** --job-uri: the job's latest build, checked the same way. */
export function resolveJobBuild(
  build: HydraBuild,
  opts: { output: string; storeDir: string; buildUrl: string },
): Resolution {
  checkSucceeded(build, "job", opts.buildUrl);
  return {
    gateBuildId: null,
    buildId: build.id,
    job: build.job,
    evals: newestIds(build.jobsetevals, EVALS_KEPT),
    storePath: selectOutputPath(build, opts.output, opts.storeDir, opts.buildUrl),
    stoptime: build.stoptime,
  };
}
