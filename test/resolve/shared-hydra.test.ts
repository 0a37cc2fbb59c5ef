// Targets behind one gate share its requests (README, "Config file"): within a poll round, SharedRound asks
// upstream once per question and hands the answer, or the failure, to every target.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HydraApi } from "../../src/resolve/latest.js";
import { SharedRound } from "../../src/resolve/shared-hydra.js";
import { HydraUnavailable } from "../../src/errors.js";
import type { JobUrl } from "../../src/hydra/job-url.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import type { HydraBuild } from "../../src/hydra/schema.js";
import { gateBuild, hydraBuild } from "./builds.js";

const GATE = parseJobUrl("https://hydra.example/job/acme/production/release_gate");
const OTHER_GATE = parseJobUrl("https://hydra.example/job/acme/staging/release_gate");

/** A fake Hydra that counts every upstream call by name and argument. */
function countingHydra(opts: { fail?: Error } = {}) {
  const calls: string[] = [];
  let latestId = 281734;
  const answer = <T>(value: T): Promise<T> => (opts.fail ? Promise.reject(opts.fail) : Promise.resolve(value));
  const api: HydraApi = {
    latest(job: JobUrl, which) {
      calls.push(`latest ${job.url} ${which}`);
      return answer({ id: latestId, job });
    },
    getBuild(id: number): Promise<HydraBuild> {
      calls.push(`getBuild ${id}`);
      return answer(gateBuild({ id }));
    },
    getConstituents(id: number): Promise<HydraBuild[]> {
      calls.push(`getConstituents ${id}`);
      return answer([hydraBuild({ job: "myapp" }), hydraBuild({ job: "worker", id: 281736 })]);
    },
  };
  return {
    api,
    calls,
    count: (prefix: string) => calls.filter((c) => c.startsWith(prefix)).length,
    publish: (id: number) => (latestId = id),
  };
}

/** What one gate target asks in a pass. */
async function gatePass(hydra: HydraApi, job: JobUrl = GATE): Promise<{ latest: number; gate: HydraBuild; constituents: HydraBuild[] }> {
  const { id: latest } = await hydra.latest(job, "latest-finished");
  return { latest, gate: await hydra.getBuild(latest), constituents: await hydra.getConstituents(latest) };
}

describe("SharedRound", () => {
  it("two targets of the same gate in one round: one upstream call per question", async () => {
    const upstream = countingHydra();
    const round = new SharedRound(upstream.api);
    const myapp = await gatePass(round);
    const worker = await gatePass(round);
    assert.deepEqual(upstream.calls, [
      `latest ${GATE.url} latest-finished`,
      "getBuild 281734",
      "getConstituents 281734",
    ]);
    assert.deepEqual(worker, myapp, "both targets see the same answers");
  });

  it("targets asking at the same moment share the request in flight", async () => {
    const upstream = countingHydra();
    const round = new SharedRound(upstream.api);
    await Promise.all([gatePass(round), gatePass(round), gatePass(round)]);
    assert.equal(upstream.calls.length, 3);
  });

  it("different questions are asked separately", async () => {
    const upstream = countingHydra();
    const round = new SharedRound(upstream.api);
    await round.latest(GATE, "latest-finished");
    await round.latest(GATE, "latest");
    await round.latest(OTHER_GATE, "latest-finished");
    await round.getBuild(1);
    await round.getBuild(2);
    await round.getConstituents(1);
    await round.getConstituents(2);
    assert.equal(upstream.count("latest"), 3);
    assert.equal(upstream.count("getBuild"), 2);
    assert.equal(upstream.count("getConstituents"), 2);
  });

  it("a build fetched for the gate is not fetched again for a --job-uri target asking the same id", async () => {
    const upstream = countingHydra();
    const round = new SharedRound(upstream.api);
    await gatePass(round);
    await round.getBuild(281734);
    assert.equal(upstream.count("getBuild"), 1);
  });

  it("a rejection is shared too: the second target gets the same error without asking again", async () => {
    const outage = new HydraUnavailable("https://hydra.example/job/acme/production/release_gate/latest-finished", "HTTP 503");
    const upstream = countingHydra({ fail: outage });
    const round = new SharedRound(upstream.api);
    await assert.rejects(gatePass(round), (err) => err === outage);
    await assert.rejects(gatePass(round), (err) => err === outage);
    await assert.rejects(round.getBuild(7), (err) => err === outage);
    await assert.rejects(round.getBuild(7), (err) => err === outage);
    await assert.rejects(round.getConstituents(7), (err) => err === outage);
    await assert.rejects(round.getConstituents(7), (err) => err === outage);
    assert.deepEqual(upstream.calls, [`latest ${GATE.url} latest-finished`, "getBuild 7", "getConstituents 7"]);
  });

  it("newRound() forgets every answer: the next poll asks Hydra again and sees a new gate build", async () => {
    const upstream = countingHydra();
    const round = new SharedRound(upstream.api);
    assert.equal((await gatePass(round)).latest, 281734);
    upstream.publish(281800);
    assert.equal((await gatePass(round)).latest, 281734, "within a round the answer is kept");
    round.newRound();
    const next = await gatePass(round);
    assert.equal(next.latest, 281800);
    assert.equal(next.gate.id, 281800);
    assert.equal(upstream.count("latest"), 2);
    assert.deepEqual(upstream.calls.slice(3), [`latest ${GATE.url} latest-finished`, "getBuild 281800", "getConstituents 281800"]);
  });

  it("newRound() forgets a failure: Hydra back up is seen at the next poll", async () => {
    let failing = true;
    let calls = 0;
    const api: HydraApi = {
      latest: (job) => {
        calls++;
        return failing ? Promise.reject(new HydraUnavailable("https://hydra.example", "connection refused")) : Promise.resolve({ id: 5, job });
      },
      getBuild: () => Promise.reject(new Error("not used")),
      getConstituents: () => Promise.reject(new Error("not used")),
    };
    const round = new SharedRound(api);
    await assert.rejects(round.latest(GATE, "latest-finished"), HydraUnavailable);
    failing = false;
    await assert.rejects(round.latest(GATE, "latest-finished"), HydraUnavailable);
    round.newRound();
    assert.equal((await round.latest(GATE, "latest-finished")).id, 5);
    assert.equal(calls, 2);
  });
});
