import type { HydraBuild } from "../hydra/schema.js";
import type { JobUrl } from "../hydra/job-url.js";
import type { Resolution } from "./resolve.js";
import { resolveGateBuild, resolveJobBuild } from "./resolve.js";
import type { Source } from "./target.js";

/** The part of the Hydra client a pass needs; tests pass fakes. */
export interface HydraApi {
  resolveLatest(job: JobUrl, which: "latest" | "latest-finished"): Promise<number>;
  getBuild(id: number): Promise<HydraBuild>;
  getConstituents(id: number): Promise<HydraBuild[]>;
}

/** The last resolution, reused while Hydra's latest build id stays the same. */
export interface ResolutionCache {
  latestId: number;
  resolution: Resolution;
}

export interface FetchOptions {
  output: string;
  storeDir: string;
}

/**
 * One redirect request tells whether anything changed; only a new build id costs the
 * build and constituents requests (SPEC §2: an idle pass is one HTTP request).
 */
export async function fetchResolution(
  hydra: HydraApi,
  source: Source,
  opts: FetchOptions,
  cache: ResolutionCache | null,
): Promise<ResolutionCache> {
  const which = source.kind === "gate" ? "latest-finished" : "latest";
  const latestId = await hydra.resolveLatest(source.job, which);
  if (cache && cache.latestId === latestId) return cache;
  const buildUrl = `${source.job.baseUrl}/build/${latestId}`;
  const build = await hydra.getBuild(latestId);
  if (source.kind === "job") {
    return { latestId, resolution: resolveJobBuild(build, { ...opts, buildUrl }) };
  }
  const constituents = await hydra.getConstituents(latestId);
  const resolution = resolveGateBuild(build, constituents, {
    constituent: source.constituent,
    output: opts.output,
    storeDir: opts.storeDir,
    gateUrl: buildUrl,
    constituentsUrl: `${buildUrl}/constituents`,
  });
  return { latestId, resolution };
}
