import assert from "node:assert/strict";
import { afterEach, before, describe, it } from "node:test";
import nock from "nock";
import { InvalidResponse } from "../../src/errors.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import {
  fixture,
  GATE,
  GATE_PATH,
  HYDRA,
  interceptBuild,
  interceptLatestFinished,
  JSON_HEADERS,
  makeClient,
  failsWith,
} from "./helpers.js";

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe("latest", () => {
  it("takes the id from a Location on the wrong host and never requests the build", async () => {
    // Hydra builds Location from the proxy's view of the host: NixOS/hydra#1202.
    const hydra = interceptLatestFinished(nock(HYDRA), { buildId: 281734, host: "http://127.0.0.1:3000" });
    const { client, requests } = makeClient();
    assert.equal((await client.latest(GATE, "latest-finished")).id, 281734);
    assert.deepEqual(hydra.pendingMocks(), []);
    assert.deepEqual(requests, [`${HYDRA}${GATE_PATH}/latest-finished`]);
  });

  it("requests `latest` for a plain job", async () => {
    const hydra = nock(HYDRA).get(`${GATE_PATH}/latest`).reply(302, "", { location: `${HYDRA}/build/77` });
    assert.equal((await makeClient().client.latest(GATE, "latest")).id, 77);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  for (const location of ["/build/281734", "../../../../build/281734", "build/281734/"]) {
    it(`accepts a relative Location ${JSON.stringify(location)}`, async () => {
      const hydra = nock(HYDRA).get(`${GATE_PATH}/latest-finished`).reply(302, "", { location });
      assert.equal((await makeClient().client.latest(GATE, "latest-finished")).id, 281734);
      assert.deepEqual(hydra.pendingMocks(), []);
    });
  }

  it("follows a 301 for a renamed jobset on the configured host, reports the move, and answers with the new job", async () => {
    const renamed = parseJobUrl(`${HYDRA}/job/acme/prod/release_gate`);
    const hydra = nock(HYDRA)
      .get("/job/acme/prod/release_gate/latest-finished")
      .reply(301, "", { location: `${HYDRA}${GATE_PATH}/latest-finished` });
    interceptLatestFinished(hydra, { buildId: 281734 });
    const moves: { from: string; to: string }[] = [];
    const { client, requests } = makeClient({ onMoved: (move) => moves.push(move) });
    const latest = await client.latest(renamed, "latest-finished");
    assert.deepEqual(latest, { id: 281734, job: GATE });
    assert.deepEqual(moves, [{ from: `${HYDRA}/job/acme/prod/release_gate/latest-finished`, to: GATE.url }]);
    assert.deepEqual(hydra.pendingMocks(), []);
    assert.deepEqual(requests, [
      `${HYDRA}/job/acme/prod/release_gate/latest-finished`,
      `${HYDRA}${GATE_PATH}/latest-finished`,
    ]);
  });

  it("refuses a 301 to another host, naming the new job URL on the configured base", async () => {
    const renamed = parseJobUrl(`${HYDRA}/job/acme/prod/release_gate`);
    const hydra = nock(HYDRA)
      .get("/job/acme/prod/release_gate/latest-finished")
      .reply(301, "", { location: `https://elsewhere.example${GATE_PATH}/latest-finished` });
    const moves: unknown[] = [];
    const { client, requests } = makeClient({ onMoved: (move) => moves.push(move) });
    await assert.rejects(
      client.latest(renamed, "latest-finished"),
      failsWith(InvalidResponse, 65, "redirects to another host (https://elsewhere.example", `use ${HYDRA}${GATE_PATH}/latest-finished`),
    );
    assert.equal(requests.length, 1, "nothing was requested from the other host or after the refusal");
    assert.deepEqual(moves, []);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("works under a path prefix, and getBuild uses the prefix", async () => {
    const base = "https://h.example/hydra";
    const job = parseJobUrl(`${base}/job/acme/production/release_gate/`);
    const hydra = nock("https://h.example")
      .get(`/hydra${GATE_PATH}/latest-finished`)
      .reply(302, "", { location: "https://h.example/hydra/build/281734" })
      .get("/hydra/build/281734")
      .reply(200, fixture("gate-build.json"), JSON_HEADERS);
    const { client } = makeClient({ baseUrl: job.baseUrl });
    const id = (await client.latest(job, "latest-finished")).id;
    assert.equal((await client.getBuild(id)).job, "release_gate");
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("adds the prefix back when a proxy hides it from Hydra", async () => {
    const job = parseJobUrl("https://h.example/hydra/job/acme/prod/release_gate");
    const hydra = nock("https://h.example")
      .get("/hydra/job/acme/prod/release_gate/latest-finished")
      .reply(301, "", { location: `https://h.example${GATE_PATH}/latest-finished` })
      .get(`/hydra${GATE_PATH}/latest-finished`)
      .reply(302, "", { location: "http://127.0.0.1:3000/build/9" });
    assert.equal((await makeClient({ baseUrl: job.baseUrl }).client.latest(job, "latest-finished")).id, 9);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("reads the id from the body when a proxy already followed the redirect", async () => {
    const hydra = nock(HYDRA).get(`${GATE_PATH}/latest-finished`).reply(200, fixture("gate-build.json"), JSON_HEADERS);
    assert.equal((await makeClient().client.latest(GATE, "latest-finished")).id, 281734);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("gives up after 5 redirects that lead to no build", async () => {
    const hydra = nock(HYDRA);
    for (let hop = 0; hop <= 5; hop += 1) {
      const from = hop === 0 ? `${GATE_PATH}/latest-finished` : `/job/acme/hop${hop}/gate/latest-finished`;
      hydra.get(from).reply(301, "", { location: `/job/acme/hop${hop + 1}/gate/latest-finished` });
    }
    const { client, requests } = makeClient();
    await assert.rejects(
      client.latest(GATE, "latest-finished"),
      failsWith(InvalidResponse, 65, `${HYDRA}${GATE_PATH}/latest-finished: more than 5 redirects`),
    );
    assert.equal(requests.length, 6);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("refuses a redirect without Location", async () => {
    const hydra = nock(HYDRA).get(`${GATE_PATH}/latest-finished`).reply(302, "");
    await assert.rejects(
      makeClient().client.latest(GATE, "latest-finished"),
      failsWith(InvalidResponse, 65, "HTTP 302 redirect without a Location header"),
    );
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("explains a redirect to the same path on another address (http to https)", async () => {
    const hydra = nock("http://hydra.example")
      .get(`${GATE_PATH}/latest-finished`)
      .reply(301, "", { location: `https://hydra.example${GATE_PATH}/latest-finished` });
    const { client, requests } = makeClient({ baseUrl: "http://hydra.example" });
    await assert.rejects(
      client.latest(GATE, "latest-finished"),
      failsWith(InvalidResponse, 65, "redirects to itself", "configure the https:// URL"),
    );
    assert.equal(requests.length, 1);
    assert.deepEqual(hydra.pendingMocks(), []);
  });
});

describe("getBuild and getConstituents", () => {
  it("reads a build", async () => {
    const hydra = interceptBuild(nock(HYDRA), 281734);
    const build = await makeClient().client.getBuild(281734);
    assert.deepEqual([build.id, build.finished, build.buildstatus], [281734, true, 0]);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("reads the constituents of a gate", async () => {
    const hydra = nock(HYDRA)
      .get("/build/281734/constituents")
      .reply(200, fixture("gate-constituents.json"), JSON_HEADERS);
    const builds = await makeClient().client.getConstituents(281734);
    assert.deepEqual(builds.map((b) => `${b.job}:${b.buildstatus}`), ["app-server:0", "docs:6", "worker:0"]);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("reads an empty constituents list (not an aggregate)", async () => {
    const hydra = nock(HYDRA).get("/build/5/constituents").reply(200, "[]", JSON_HEADERS);
    assert.deepEqual(await makeClient().client.getConstituents(5), []);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("refuses a build URL that redirects elsewhere instead of answering", async () => {
    const hydra = nock(HYDRA).get("/build/5").reply(302, "", { location: "https://hydra.example/build/6" });
    await assert.rejects(
      makeClient().client.getBuild(5),
      failsWith(InvalidResponse, 65, `${HYDRA}/build/5: redirected to ${HYDRA}/build/6`),
    );
    assert.deepEqual(hydra.pendingMocks(), []);
  });
});
