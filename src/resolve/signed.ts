// resolve: Resolving a target through its signed release when it has one, through the gate
// otherwise.
import { InvalidResponse, NotReady, UsageError } from "../errors.js";
import type { JobUrl } from "../hydra/job-url.js";
import { HydraNotFound } from "../hydra/not-found.js";
import type { ReleaseView } from "../release/confirm.js";
import { checkHydraAgrees, checkReleaseJob, hydraDoesNotConfirm, signedPathOf } from "../release/confirm.js";
import type { ReleaseFiles } from "../release/fetch-release.js";
import { fetchRelease } from "../release/fetch-release.js";
import { loadAllowedSigners } from "../release/signers-file.js";
import { verifyRelease } from "../release/verify.js";
import type { ResolveOptions, HydraApi, ResolutionCache } from "./latest.js";
import { resolveLatest, resolutionOf, resolveGateAt } from "./latest.js";
import type { ReleaseTarget, Target } from "./target.js";

export interface ResolveDeps {
  hydra: HydraApi;
  /** how the release files are fetched; null when no target of this process has --release-manifest */
  releaseFiles: ReleaseFiles | null;
  now: () => Date;
}

/** What a pass (or plan) goes by: the resolution (cached as latest.ts caches it) and the release that picked it. */
export interface Resolved {
  cache: ResolutionCache;
  release: ReleaseView | null;
}

/** Without --release-manifest, latest-finished picks the build; with it, the signed release does. */
export async function resolveTarget(deps: ResolveDeps, target: Target, opts: ResolveOptions, cache: ResolutionCache | null): Promise<Resolved> {
  if (target.release === undefined) return { cache: await resolveLatest(deps.hydra, target.source, opts, cache), release: null };
  return resolveSigned(deps, target, target.release, opts, cache);
}

/**
 * The manifest picks the build (docs/signed-releases.md): its signature must verify, it must be
 * for this gate job, and Hydra must confirm the build it names with every check a pass makes,
 * down to the out path. latest-finished is asked only to tell whether a newer build waits
 * for a signature.
 */
async function resolveSigned(deps: ResolveDeps, target: Target, release: ReleaseTarget, opts: ResolveOptions, cache: ResolutionCache | null): Promise<Resolved> {
  const { source } = target;
  if (source.kind !== "gate") throw new UsageError("--release-manifest needs --gate-job: a release signs a gate build");
  if (deps.releaseFiles === null) throw new Error("a target with --release-manifest has no client for its files");
  const url = release.manifestUrl;
  const signers = await loadAllowedSigners(release.allowedSigners);
  const [fetched, newest] = await Promise.all([fetchRelease(deps.releaseFiles, url), newestFinished(deps.hydra, source.job)]);
  const { manifest, principal, fingerprint } = verifyRelease(fetched.manifestBytes, fetched.signatureText, signers, deps.now(), url, opts.storeDir);
  checkReleaseJob(manifest, source.job, url);
  const signedPath = signedPathOf(manifest, source.constituent, url);
  const entry = cache?.latestId === manifest.build ? cache : await confirming(manifest.build, url, () => resolveGateAt(deps.hydra, source, manifest.build, opts));
  const resolution = await confirming(manifest.build, url, () => Promise.resolve(resolutionOf(entry)));
  checkHydraAgrees({ url, build: manifest.build, constituent: source.constituent, signedPath }, resolution.storePath, `${source.job.baseUrl}/build/${manifest.build}`);
  return {
    cache: entry,
    release: {
      url,
      build: manifest.build,
      principal,
      fingerprint,
      expires: manifest.expires ?? null,
      unsignedBuildId: newest !== null && newest > manifest.build ? newest : null,
    },
  };
}

/**
 * Hydra's answers about the signed build: a build that is unfinished, failed, missing or of
 * another job is Hydra not confirming the release (65), in Hydra's words. An outage stays 69.
 */
async function confirming<T>(build: number, url: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof NotReady || err instanceof InvalidResponse) throw hydraDoesNotConfirm({ url, build }, err.message);
    throw err;
  }
}

/** The gate's newest finished build id, or null while it has none (then nothing newer waits). */
async function newestFinished(hydra: HydraApi, job: JobUrl): Promise<number | null> {
  try {
    return (await hydra.latest(job, "latest-finished")).id;
  } catch (err) {
    if (err instanceof HydraNotFound) return null;
    throw err;
  }
}
