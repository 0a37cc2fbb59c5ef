// resolve: Targets behind the same gate share Hydra's answers within one poll round.
import type { Latest } from "../hydra/client.js";
import type { JobUrl } from "../hydra/job-url.js";
import type { HydraBuild } from "../hydra/schema.js";
import type { HydraApi } from "./latest.js";

/**
 * Targets that share a gate job share its requests (docs/reference.md, "Config file"): within one poll round every
 * answer (or failure) is asked for once and handed to each target that needs it. A new round
 * forgets them all, so no answer outlives the poll it was fetched for.
 */
export class SharedRound implements HydraApi {
  private latests = new Map<string, Promise<Latest>>();
  private builds = new Map<number, Promise<HydraBuild>>();
  private constituents = new Map<number, Promise<HydraBuild[]>>();

  constructor(private readonly upstream: HydraApi) {}

  /** The client itself, for a request that must really reach Hydra now (--confirm-timeout). */
  direct(): HydraApi {
    return this.upstream;
  }

  newRound(): void {
    this.latests.clear();
    this.builds.clear();
    this.constituents.clear();
  }

  latest(job: JobUrl, which: "latest" | "latest-finished"): Promise<Latest> {
    return once(this.latests, `${job.url} ${which}`, () => this.upstream.latest(job, which));
  }

  /** Only asked on the error path, after a 404: not shared. */
  getJobset(job: JobUrl): Promise<void> {
    return this.upstream.getJobset?.(job) ?? Promise.resolve();
  }

  latestBuildJobs(job: JobUrl, opts: { onlyThisJob: boolean; count: number }): Promise<string[]> {
    return this.upstream.latestBuildJobs?.(job, opts) ?? Promise.resolve([]);
  }

  getBuild(id: number): Promise<HydraBuild> {
    return once(this.builds, id, () => this.upstream.getBuild(id));
  }

  getConstituents(id: number): Promise<HydraBuild[]> {
    return once(this.constituents, id, () => this.upstream.getConstituents(id));
  }
}

function once<K, V>(memo: Map<K, Promise<V>>, key: K, fetch: () => Promise<V>): Promise<V> {
  let pending = memo.get(key);
  if (pending === undefined) {
    pending = fetch();
    memo.set(key, pending);
  }
  return pending;
}
