/**
 * What `hail sign` signs: the gate's latest-finished build and each constituent's out path,
 * through the same requests and checks as a pass or `plan` (src/resolve/resolution.ts), for every
 * constituent at once.
 */
import { InvalidResponse, NotReady } from "../errors.js";
import { diagnosed, type HydraApi } from "../resolve/latest.js";
import { checkBuildIsOf, checkSucceeded, resolveGateBuild } from "../resolve/resolution.js";
import type { JobUrl } from "../hydra/job-url.js";
import { constituents404, diagnoseLatest404, type HydraNotFound } from "../hydra/not-found.js";
import { serverText } from "../server-text.js";

/** The out output: a host compares the manifest with the path it resolves for its constituent. */
const SIGNED_OUTPUT = "out";

export interface GateRelease {
  /** PROJECT/JOBSET/JOB, as Hydra names the gate build (after a followed jobset rename) */
  job: string;
  build: number;
  constituents: Record<string, string>;
  /** constituents left out, each with why (not finished or not successful) */
  skipped: { name: string; why: string }[];
}

function nothingToSign(err: HydraNotFound): NotReady {
  const says = err.hydraText === null ? "HTTP 404" : `Hydra says "${serverText(err.hydraText)}"`;
  return new NotReady(`nothing to sign at ${err.url}: ${says}: the gate has no successful finished build yet`, "sign once Hydra has built the gate green; if it has, check --gate-job");
}

/** The gate's latest-finished build and its constituents: NotReady unless the gate is green. */
export async function resolveGateRelease(hydra: HydraApi, job: JobUrl, storeDir: string): Promise<GateRelease> {
  const latest = await diagnosed(hydra.latest(job, "latest-finished"), async (err) => {
    const diagnosis = await diagnoseLatest404(hydra, job, err);
    // the pass's words ("hail tries again at the next poll") do not fit a command run once
    return diagnosis === err ? nothingToSign(err) : diagnosis;
  });
  const gateUrl = `${job.baseUrl}/build/${latest.id}`;
  const constituentsUrl = `${gateUrl}/constituents`;
  const [gate, constituents] = await Promise.all([
    hydra.getBuild(latest.id),
    diagnosed(hydra.getConstituents(latest.id), (err) => Promise.resolve(constituents404(err))),
  ]);
  checkBuildIsOf(gate, latest.job, "gate", gateUrl);
  checkSucceeded(gate, "gate", gateUrl);
  if (constituents.length === 0) throw new InvalidResponse(constituentsUrl, `gate build ${gate.id} has no constituents: is ${job.url} an aggregate job?`);
  const release: GateRelease = { job: `${gate.project}/${gate.jobset}/${gate.job}`, build: gate.id, constituents: {}, skipped: [] };
  for (const name of new Set(constituents.map((c) => c.job))) {
    try {
      const resolution = resolveGateBuild(gate, constituents, { constituent: name, output: SIGNED_OUTPUT, storeDir, gateUrl, constituentsUrl });
      release.constituents[name] = resolution.storePath;
    } catch (err) {
      // a constituent restarted under a green gate: nothing to sign for it, the rest stands
      if (!(err instanceof NotReady)) throw err;
      release.skipped.push({ name, why: err.message });
    }
  }
  if (Object.keys(release.constituents).length === 0) {
    throw new NotReady(`gate build ${gate.id} (${gateUrl}) has no successful constituent to sign${release.skipped.length > 0 ? `: ${release.skipped[0]?.why}` : ""}`);
  }
  return release;
}
