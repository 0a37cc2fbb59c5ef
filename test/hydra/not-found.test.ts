import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HydraUnavailable, NotReady, UsageError } from "../../src/errors.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import type { NotFoundProbe } from "../../src/hydra/not-found.js";
import { constituents404, diagnoseLatest404, HydraNotFound, NO_SUCCESSFUL_BUILD, PAGE_NOT_FOUND } from "../../src/hydra/not-found.js";

const JOB = parseJobUrl("https://hydra.example/job/acme/production/release_gat");
const URL_ = `${JOB.url}/latest-finished`;
const notFound = (text: string | null) => new HydraNotFound(URL_, text, `nothing deployable yet at ${URL_}`);

function probe(fields: { jobset?: "exists" | "no-project" | "no-jobset"; thisJob?: string[]; all?: string[]; fail?: boolean } = {}): NotFoundProbe & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async getJobset(job) {
      calls.push(`jobset ${job.project}/${job.jobset}`);
      if (fields.jobset === "no-project") throw new HydraNotFound("https://hydra.example/jobset/acme/production", "Project ‘acme’ doesn't exist.", "404");
      if (fields.jobset === "no-jobset") throw new HydraNotFound("https://hydra.example/jobset/acme/production", "Jobset ‘production’ doesn't exist.", "404");
    },
    async latestBuildJobs(_job, opts) {
      calls.push(`latestbuilds ${opts.onlyThisJob ? "job" : "jobset"} ${opts.count}`);
      if (fields.fail) throw new HydraUnavailable("https://hydra.example/api/latestbuilds", "HTTP 500");
      return opts.onlyThisJob ? (fields.thisJob ?? []) : (fields.all ?? []);
    },
  };
}

function usage(...fragments: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 64);
    for (const f of fragments) assert.ok(err.message.includes(f), `${f} not in: ${err.message}`);
    return true;
  };
}

describe("diagnoseLatest404", () => {
  it("Jobset ‘X’ doesn't exist. and /jobset says the project is missing: 64 naming the project", async () => {
    const err = await diagnoseLatest404(probe({ jobset: "no-project" }), JOB, notFound("Jobset ‘production’ doesn't exist."));
    usage("configuration error", 'no project "acme"', "Project ‘acme’ doesn't exist.")(err);
  });

  it("Jobset ‘X’ doesn't exist. and the project exists: 64 naming the jobset", async () => {
    const err = await diagnoseLatest404(probe({ jobset: "no-jobset" }), JOB, notFound("Jobset ‘production’ doesn't exist."));
    usage('no jobset "production" in project "acme"', "Jobset ‘production’ doesn't exist.")(err);
  });

  it("Jobset ‘X’ doesn't exist. without a way to ask /jobset: still 64 naming the jobset", async () => {
    usage('no jobset "production"')(await diagnoseLatest404({}, JOB, notFound("Jobset ‘production’ doesn't exist.")));
  });

  it("no successful build, and the job has finished builds: not ready (75), one request", async () => {
    const p = probe({ thisJob: ["release_gat"] });
    const original = notFound(NO_SUCCESSFUL_BUILD);
    assert.equal(await diagnoseLatest404(p, JOB, original), original);
    assert.deepEqual(p.calls, ["latestbuilds job 1"]);
  });

  it("no successful build, and no build of the job ever finished while others did: 64 listing the jobs", async () => {
    const err = await diagnoseLatest404(probe({ all: ["tests", "release_gate", "myapp", "tests"] }), JOB, notFound(NO_SUCCESSFUL_BUILD));
    usage('jobset "acme/production" has no job "release_gat"', "jobs with recent builds there: myapp, release_gate, tests")(err);
  });

  it("a jobset without any finished build cannot tell: not ready", async () => {
    const original = notFound(NO_SUCCESSFUL_BUILD);
    assert.equal(await diagnoseLatest404(probe(), JOB, original), original);
  });

  it("a Hydra that cannot list builds (an error): not ready, as the 404 said", async () => {
    const original = notFound(NO_SUCCESSFUL_BUILD);
    const err = await diagnoseLatest404(probe({ fail: true }), JOB, original);
    assert.equal(err, original);
    assert.ok(err instanceof NotReady && err.exitCode === 75);
  });

  it("any other 404 (an HTML page, another text) is left as it is", async () => {
    for (const text of [null, "Something else."]) {
      const original = notFound(text);
      const p = probe();
      assert.equal(await diagnoseLatest404(p, JOB, original), original);
      assert.deepEqual(p.calls, []);
    }
  });
});

describe("constituents404", () => {
  it("Page not found.: 64, Hydra too old for --gate-job", () => {
    usage("too old for --gate-job", "/build/ID/constituents", "--job-uri")(constituents404(notFound(PAGE_NOT_FOUND)));
  });

  it("another 404 stays what it was", () => {
    const original = notFound("Build with ID 5 doesn't exist.");
    assert.equal(constituents404(original), original);
  });
});
