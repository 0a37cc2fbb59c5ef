import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HydraApi, ResolutionCache } from "../../src/resolve/latest.js";
import { resolveLatest, resolutionOf } from "../../src/resolve/latest.js";
import type { Source } from "../../src/resolve/target.js";
import { InvalidResponse } from "../../src/errors.js";
import type { JobUrl } from "../../src/hydra/job-url.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import type { HydraBuild } from "../../src/hydra/schema.js";
import { gateBuild, HASH, hydraBuild, resolution, storePath } from "./builds.js";

const GATE_JOB = parseJobUrl("https://hydra.example/job/acme/production/release_gate");
const APP_JOB = parseJobUrl("https://hydra.example/job/acme/production/app-server");
const gateSource: Source = { kind: "gate", job: GATE_JOB, constituent: "app-server" };
const jobSource: Source = { kind: "job", job: APP_JOB };
const opts = { output: "out", storeDir: "/nix/store" };

/** A Hydra that serves fixed builds and records every call it gets, in order. */
function fakeHydra(latestId: number, builds: Record<number, HydraBuild>, constituents: Record<number, HydraBuild[]> = {}) {
  const calls: string[] = [];
  const api: HydraApi = {
    async latest(job: JobUrl, which) {
      calls.push(`latest ${job.job} ${which}`);
      return { id: latestId, job };
    },
    async getBuild(id) {
      calls.push(`getBuild ${id}`);
      const build = builds[id];
      if (!build) throw new Error(`fake Hydra has no build ${id}`);
      return build;
    },
    async getConstituents(id) {
      calls.push(`getConstituents ${id}`);
      return constituents[id] ?? [];
    },
  };
  return { api, calls };
}

describe("resolveLatest, gate mode", () => {
  const gate = gateBuild({ id: 500, jobsetevals: [19022] });
  const app = hydraBuild({ id: 501, job: "app-server", jobsetevals: [19022] });

  it("asks latest-finished, then the gate build and its constituents", async () => {
    const { api, calls } = fakeHydra(500, { 500: gate }, { 500: [app] });
    const result = await resolveLatest(api, gateSource, opts, null);
    assert.deepEqual(calls, ["latest release_gate latest-finished", "getBuild 500", "getConstituents 500"]);
    assert.equal(result.latestId, 500);
    assert.deepEqual(resolutionOf(result), {
      gateBuildId: 500,
      buildId: 501,
      job: "app-server",
      evals: [19022],
      storePath: storePath(HASH.a, "app-server-1.0"),
      stoptime: gate.stoptime,
    });
  });

  it("makes one request and returns the cache while the latest id is unchanged", async () => {
    const cached: ResolutionCache = { kind: "resolved", latestId: 500, resolution: resolution({ gateBuildId: 500 }) };
    const { api, calls } = fakeHydra(500, {}, {});
    const result = await resolveLatest(api, gateSource, opts, cached);
    assert.deepEqual(calls, ["latest release_gate latest-finished"]);
    assert.equal(result, cached);
  });

  it("refetches when the latest id moved", async () => {
    const cached: ResolutionCache = { kind: "resolved", latestId: 499, resolution: resolution({ gateBuildId: 499, buildId: 498 }) };
    const { api, calls } = fakeHydra(500, { 500: gate }, { 500: [app] });
    const result = await resolveLatest(api, gateSource, opts, cached);
    assert.deepEqual(calls, ["latest release_gate latest-finished", "getBuild 500", "getConstituents 500"]);
    assert.equal(result.latestId, 500);
    assert.equal(resolutionOf(result).buildId, 501);
  });

  it("names the gate's constituents URL on the configured base in errors", async () => {
    const { api } = fakeHydra(500, { 500: gate }, { 500: [hydraBuild({ job: "worker" })] });
    const entry = await resolveLatest(api, gateSource, opts, null);
    assert.throws(
      () => resolutionOf(entry),
      (err: unknown) =>
        err instanceof InvalidResponse && err.url === "https://hydra.example/build/500/constituents" && err.message.includes("worker"),
    );
  });

  it("keeps a refusal from the builds' data: the next pass on the same gate makes one request", async () => {
    const { api, calls } = fakeHydra(500, { 500: gate }, { 500: [hydraBuild({ job: "worker" })] });
    const first = await resolveLatest(api, gateSource, opts, null);
    const second = await resolveLatest(api, gateSource, opts, first);
    assert.equal(second, first);
    assert.deepEqual(calls, [
      "latest release_gate latest-finished",
      "getBuild 500",
      "getConstituents 500",
      "latest release_gate latest-finished",
    ]);
    assert.throws(() => resolutionOf(second), InvalidResponse);
  });

  it("does not keep NotReady: a restarted constituent may still finish under the same gate", async () => {
    const queued = hydraBuild({ id: 501, job: "app-server", jobsetevals: [19022], finished: false, buildstatus: null });
    const { api } = fakeHydra(500, { 500: gate }, { 500: [queued] });
    await assert.rejects(resolveLatest(api, gateSource, opts, null), (err: unknown) => err instanceof Error && err.name === "NotReady");
  });
});

describe("resolveLatest, job mode", () => {
  it("asks latest and the build, never constituents", async () => {
    const build = hydraBuild({ id: 700, job: "app-server" });
    const { api, calls } = fakeHydra(700, { 700: build });
    const result = await resolveLatest(api, jobSource, opts, null);
    assert.deepEqual(calls, ["latest app-server latest", "getBuild 700"]);
    assert.equal(result.latestId, 700);
    assert.equal(resolutionOf(result).gateBuildId, null);
    assert.equal(resolutionOf(result).buildId, 700);
  });

  it("reuses the cache with one request when the id is unchanged", async () => {
    const cached: ResolutionCache = { kind: "resolved", latestId: 700, resolution: resolution({ gateBuildId: null, buildId: 700 }) };
    const { api, calls } = fakeHydra(700, {});
    assert.equal(await resolveLatest(api, jobSource, opts, cached), cached);
    assert.deepEqual(calls, ["latest app-server latest"]);
  });

  it("names the build URL in errors", async () => {
    const { api } = fakeHydra(700, { 700: hydraBuild({ id: 700, buildoutputs: { bin: { path: storePath(HASH.a, "bin") } } }) });
    const entry = await resolveLatest(api, jobSource, opts, null);
    assert.throws(
      () => resolutionOf(entry),
      (err: unknown) => err instanceof InvalidResponse && err.url === "https://hydra.example/build/700",
    );
  });
});

describe("resolveLatest: the build is of the job asked for", () => {
  const app = hydraBuild({ id: 501, job: "app-server", jobsetevals: [19022] });

  it("a gate build of another jobset is refused (65) and kept as a refusal", async () => {
    const { api } = fakeHydra(500, { 500: gateBuild({ id: 500, jobset: "staging", jobsetevals: [19022] }) }, { 500: [app] });
    const result = await resolveLatest(api, gateSource, opts, null);
    assert.throws(() => resolutionOf(result), (err: unknown) => err instanceof InvalidResponse && err.message.includes("acme/staging/release_gate, not of acme/production/release_gate"));
  });

  it("after a followed rename, the new names are the expected ones", async () => {
    const renamed = parseJobUrl("https://hydra.example/job/acme/prod-2026/release_gate");
    const builds = { 500: gateBuild({ id: 500, jobset: "prod-2026", jobsetevals: [19022] }) };
    const { api } = fakeHydra(500, builds, { 500: [app] });
    const moved: HydraApi = { ...api, latest: async (_job, which) => ({ ...(await api.latest(GATE_JOB, which)), job: renamed }) };
    assert.equal(resolutionOf(await resolveLatest(moved, gateSource, opts, null)).buildId, 501);
    // the old name is no longer what Hydra answers for
    const { api: stale } = fakeHydra(500, builds, { 500: [app] });
    const result = await resolveLatest(stale, gateSource, opts, null);
    assert.throws(() => resolutionOf(result), InvalidResponse);
  });

  it("--job-uri: a build of another job is refused (65)", async () => {
    const { api } = fakeHydra(700, { 700: hydraBuild({ id: 700, job: "worker" }) });
    const result = await resolveLatest(api, jobSource, opts, null);
    assert.throws(() => resolutionOf(result), (err: unknown) => err instanceof InvalidResponse && err.message.includes("job build 700 is of acme/production/worker"));
  });
});
