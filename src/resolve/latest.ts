// resolve: Asking Hydra for a source's latest build and resolving it, cached while the latest build
// id stays.
import { InvalidResponse } from "../errors.js";
import type { Latest } from "../hydra/client.js";
import type { HydraBuild } from "../hydra/schema.js";
import type { JobUrl } from "../hydra/job-url.js";
import type { NotFoundProbe } from "../hydra/not-found.js";
import { constituents404, diagnoseLatest404, HydraNotFound } from "../hydra/not-found.js";
import type { Resolution } from "./resolution.js";
import { checkBuildIsOf, resolveGateBuild, resolveJobBuild } from "./resolution.js";
import type { Source } from "./target.js";

/** The part of the Hydra client a pass needs; tests pass fakes. */
export interface HydraApi extends NotFoundProbe {
  /** the build id `latest[-finished]` redirects to, and the job it is of (after a jobset rename) */
  latest(job: JobUrl, which: "latest" | "latest-finished"): Promise<Latest>;
  getBuild(id: number): Promise<HydraBuild>;
  getConstituents(id: number): Promise<HydraBuild[]>;
}

/**
 * The last resolution, reused while Hydra's latest build id stays the same. A refusal that
 * comes from the builds' own data (no such constituent, an unsafe path) is kept too: a
 * finished build's data does not change, so asking again would only cost requests.
 */
export type ResolutionCache =
  | { kind: "resolved"; latestId: number; resolution: Resolution }
  | { kind: "refused"; latestId: number; refusal: InvalidResponse };

/** The resolution in a cache entry, or its refusal thrown. */
export function resolutionOf(entry: ResolutionCache): Resolution {
  if (entry.kind === "refused") throw entry.refusal;
  return entry.resolution;
}

export interface ResolveOptions {
  output: string;
  storeDir: string;
}

/**
 * One redirect request tells whether anything changed; only a new build id costs the
 * build and constituents requests: an idle pass is one HTTP request.
 */
export async function resolveLatest(
  hydra: HydraApi,
  source: Source,
  opts: ResolveOptions,
  cache: ResolutionCache | null,
): Promise<ResolutionCache> {
  const which = source.kind === "gate" ? "latest-finished" : "latest";
  const latest = await diagnosed(hydra.latest(source.job, which), (err) => diagnoseLatest404(hydra, source.job, err));
  const latestId = latest.id;
  if (cache && cache.latestId === latestId) return cache;
  const buildUrl = `${source.job.baseUrl}/build/${latestId}`;
  if (source.kind === "job") {
    const build = await hydra.getBuild(latestId);
    return settle(latestId, () => {
      checkBuildIsOf(build, latest.job, "job", buildUrl);
      return resolveJobBuild(build, { ...opts, buildUrl });
    });
  }
  return resolveGateAt(hydra, { ...source, job: latest.job }, latestId, opts);
}

/**
 * Gate build `id` of `source.job`, resolved with every check (docs/how-it-works.md, step 2):
 * the build `latest-finished` names, or the one a signed release names (resolve/signed.ts).
 */
export async function resolveGateAt(hydra: HydraApi, source: Extract<Source, { kind: "gate" }>, id: number, opts: ResolveOptions): Promise<ResolutionCache> {
  const buildUrl = `${source.job.baseUrl}/build/${id}`;
  // Both need only the id: asked together, a new gate costs one round trip less.
  const [build, constituents] = await Promise.all([
    hydra.getBuild(id),
    diagnosed(hydra.getConstituents(id), (err) => Promise.resolve(constituents404(err))),
  ]);
  return settle(id, () => {
    checkBuildIsOf(build, source.job, "gate", buildUrl);
    return resolveGateBuild(build, constituents, {
      constituent: source.constituent,
      output: opts.output,
      storeDir: opts.storeDir,
      gateUrl: buildUrl,
      constituentsUrl: `${buildUrl}/constituents`,
    });
  });
}

/** A request whose 404 is looked at more closely: `diagnose` returns the error to throw instead. */
export async function diagnosed<T>(request: Promise<T>, diagnose: (err: HydraNotFound) => Promise<Error>): Promise<T> {
  try {
    return await request;
  } catch (err) {
    throw err instanceof HydraNotFound ? await diagnose(err) : err;
  }
}

/** NotReady is not kept: a restarted constituent can still finish under the same gate. */
function settle(latestId: number, resolve: () => Resolution): ResolutionCache {
  try {
    return { kind: "resolved", latestId, resolution: resolve() };
  } catch (err) {
    if (err instanceof InvalidResponse) return { kind: "refused", latestId, refusal: err };
    throw err;
  }
}

/**
 * A cache entry rebuilt from what hail last deployed, so that a one-shot run whose gate has
 * not moved costs one request, like an idle daemon pass.
 */
export function cacheFromDeployed(
  deployed: { source: string; gateBuildId: number | null } & Resolution,
  source: Source,
  sourceKey: string,
): ResolutionCache | null {
  if (deployed.source !== sourceKey) return null;
  const latestId = source.kind === "gate" ? deployed.gateBuildId : deployed.buildId;
  if (latestId === null) return null;
  const { gateBuildId, buildId, job, evals, storePath, stoptime } = deployed;
  return { kind: "resolved", latestId, resolution: { gateBuildId, buildId, job, evals, storePath, stoptime } };
}
