import assert from "node:assert/strict";
import { afterEach, before, describe, it } from "node:test";
import nock from "nock";
import { HydraUnavailable, InvalidResponse, NotReady } from "../../src/errors.js";
import {
  closedPort,
  fixture,
  GATE,
  GATE_PATH,
  HYDRA,
  interceptLatestFinished,
  JSON_HEADERS,
  makeClient,
  recordSleeps,
  failsWith,
} from "./helpers.js";

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const LATEST = `${HYDRA}${GATE_PATH}/latest-finished`;

describe("HTTP statuses", () => {
  it("404 with Hydra's JSON body -> NotReady with URL and Hydra's text, not retried", async () => {
    const hydra = nock(HYDRA).get(`${GATE_PATH}/latest-finished`).reply(404, fixture("error-404.json"), JSON_HEADERS);
    const { client, requests } = makeClient();
    await assert.rejects(
      client.latest(GATE, "latest-finished"),
      failsWith(NotReady, 75, LATEST, 'Hydra says "There is no successful build to redirect to."'),
    );
    assert.equal(requests.length, 1);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("404 with an HTML page -> NotReady naming the status", async () => {
    const hydra = nock(HYDRA)
      .get("/build/9/constituents")
      .reply(404, fixture("login-page.html"), { "content-type": "text/html" });
    await assert.rejects(
      makeClient().client.getConstituents(9),
      failsWith(NotReady, 75, `${HYDRA}/build/9/constituents: HTTP 404`),
    );
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  for (const status of [401, 403]) {
    it(`${status} -> HydraUnavailable saying a login is needed, not retried`, async () => {
      const body = JSON.stringify({ error: "This page requires you to sign in." });
      const hydra = nock(HYDRA).get("/build/5").reply(status, body, JSON_HEADERS);
      const { client, requests } = makeClient();
      await assert.rejects(
        client.getBuild(5),
        failsWith(HydraUnavailable, 69, `HTTP ${status}`, "requires you to sign in", /login/, /netrc/),
      );
      assert.equal(requests.length, 1);
      assert.deepEqual(hydra.pendingMocks(), []);
    });
  }

  it("500 three times with retries 2 -> HydraUnavailable after exactly 3 requests", async () => {
    const body = JSON.stringify({ error: "Invalid build ID ‘abc’." });
    const hydra = nock(HYDRA).get("/build/5").times(3).reply(500, body, JSON_HEADERS);
    const { client, requests } = makeClient({ retries: 2 });
    await assert.rejects(
      client.getBuild(5),
      failsWith(HydraUnavailable, 69, `${HYDRA}/build/5`, "HTTP 500", "3 attempts", "Invalid build ID"),
    );
    assert.equal(requests.length, 3);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("a 503 then a good answer succeeds on the retry", async () => {
    const hydra = nock(HYDRA).get(`${GATE_PATH}/latest-finished`).reply(503, "busy");
    interceptLatestFinished(hydra, { buildId: 42 });
    const { client, requests } = makeClient();
    assert.equal((await client.latest(GATE, "latest-finished")).id, 42);
    assert.equal(requests.length, 2);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("backs off exponentially from retryDelayMs between attempts", async () => {
    const hydra = nock(HYDRA).get("/build/5").times(3).reply(503, "busy");
    const { delays, sleep } = recordSleeps();
    const { client } = makeClient({ retries: 2, retryDelayMs: 100, sleep });
    await assert.rejects(client.getBuild(5), failsWith(HydraUnavailable, 69, "HTTP 503"));
    assert.deepEqual(delays, [100, 200]);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  const retryAfterCases: Array<[string, string, number]> = [
    ["a huge Retry-After in seconds is capped", "86400", 10_000],
    ["a small Retry-After in seconds is honoured", "2", 2_000],
    ["a far Retry-After date is capped", new Date(Date.now() + 3_600_000).toUTCString(), 10_000],
    ["an unreadable Retry-After falls back to the backoff", "soon", 500],
  ];
  for (const [name, retryAfter, expected] of retryAfterCases) {
    it(`429: ${name}`, async () => {
      const hydra = nock(HYDRA)
        .get(`${GATE_PATH}/latest-finished`)
        .reply(429, "slow down", { "retry-after": retryAfter });
      interceptLatestFinished(hydra, { buildId: 42 });
      const { delays, sleep } = recordSleeps();
      const { client } = makeClient({ retryDelayMs: 500, maxRetryAfterMs: 10_000, sleep });
      assert.equal((await client.latest(GATE, "latest-finished")).id, 42);
      assert.deepEqual(delays, [expected]);
      assert.deepEqual(hydra.pendingMocks(), []);
    });
  }

  it("with real timers, a capped Retry-After finishes quickly", async () => {
    // Uncapped, this Retry-After would wait 1 s (not a day, so a broken cap fails rather than hangs).
    const hydra = nock(HYDRA).get(`${GATE_PATH}/latest-finished`).reply(503, "busy", { "retry-after": "1" });
    interceptLatestFinished(hydra, { buildId: 42 });
    const { client } = makeClient({ maxRetryAfterMs: 10, retryDelayMs: 5_000 });
    const started = Date.now();
    assert.equal((await client.latest(GATE, "latest-finished")).id, 42);
    assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("retries 0 means a single request", async () => {
    const hydra = nock(HYDRA).get("/build/5").reply(502, "bad gateway");
    const { client, requests } = makeClient({ retries: 0 });
    await assert.rejects(client.getBuild(5), failsWith(HydraUnavailable, 69, "HTTP 502", "1 attempts"));
    assert.equal(requests.length, 1);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("another 4xx -> InvalidResponse, not retried", async () => {
    const hydra = nock(HYDRA).get("/build/5").reply(400, "bad request");
    const { client, requests } = makeClient();
    await assert.rejects(client.getBuild(5), failsWith(InvalidResponse, 65, `${HYDRA}/build/5`, "unexpected HTTP 400"));
    assert.equal(requests.length, 1);
    assert.deepEqual(hydra.pendingMocks(), []);
  });
});

describe("network failures", () => {
  it("connection refused by a real closed port -> HydraUnavailable after retries", async () => {
    const base = `http://127.0.0.1:${await closedPort()}`;
    nock.enableNetConnect("127.0.0.1");
    try {
      const { client, requests } = makeClient({ baseUrl: base, retries: 2 });
      await assert.rejects(
        client.getBuild(5),
        failsWith(HydraUnavailable, 69, `${base}/build/5`, "ECONNREFUSED", "3 attempts"),
      );
      assert.equal(requests.length, 3);
    } finally {
      nock.disableNetConnect();
    }
  });

  it("a connection reset is retried and then succeeds", async () => {
    const hydra = nock(HYDRA)
      .get(`${GATE_PATH}/latest-finished`)
      // An Error, not a plain object: nock's node:http interceptor drops plain-object errors silently.
      .replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    interceptLatestFinished(hydra, { buildId: 42 });
    const { client, requests } = makeClient();
    assert.equal((await client.latest(GATE, "latest-finished")).id, 42);
    assert.equal(requests.length, 2);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("a timeout -> HydraUnavailable, not retried", async () => {
    const hydra = nock(HYDRA).get("/build/5").delay(300).reply(200, fixture("gate-build.json"), JSON_HEADERS);
    const { client, requests } = makeClient({ timeoutMs: 50 });
    await assert.rejects(
      client.getBuild(5),
      (err: unknown) => failsWith(HydraUnavailable, 69, `${HYDRA}/build/5`, "within 50ms")(err) && err instanceof HydraUnavailable && /raise --timeout/.test(err.hint ?? ""),
    );
    assert.equal(requests.length, 1);
    assert.deepEqual(hydra.pendingMocks(), []);
  });
});

describe("bodies hail cannot trust", () => {
  const truncated = fixture("gate-build.json").slice(0, 200);
  const html = fixture("login-page.html");
  const noOutputs = JSON.stringify({ ...JSON.parse(fixture("gate-build.json")), buildoutputs: undefined });
  const cases: Array<[string, string, Record<string, string>, Array<RegExp | string>]> = [
    ["an HTML page", html, { "content-type": "text/html; charset=utf-8" }, ["HTML page", "text/html"]],
    ["HTML sent as JSON", html, JSON_HEADERS, ["HTML page"]],
    ["truncated JSON", truncated, JSON_HEADERS, ["not valid JSON", "200 characters"]],
    ["plain text", "Service starting", { "content-type": "text/plain" }, ["not valid JSON"]],
    ["an empty body", "", JSON_HEADERS, ["empty body"]],
    ["{} for a build", "{}", JSON_HEADERS, [/unexpected JSON \(id: .*finished: /]],
    ["a build missing its outputs", noOutputs, JSON_HEADERS, ["buildoutputs:"]],
  ];
  for (const [name, body, headers, patterns] of cases) {
    it(`${name} -> InvalidResponse naming the URL`, async () => {
      const hydra = nock(HYDRA).get("/build/5").reply(200, body, headers);
      await assert.rejects(
        makeClient().client.getBuild(5),
        failsWith(InvalidResponse, 65, `invalid response from ${HYDRA}/build/5: `, ...patterns),
      );
      assert.deepEqual(hydra.pendingMocks(), []);
    });
  }

  it("an object where constituents should be an array -> InvalidResponse", async () => {
    const hydra = nock(HYDRA).get("/build/5/constituents").reply(200, fixture("gate-build.json"), JSON_HEADERS);
    await assert.rejects(
      makeClient().client.getConstituents(5),
      failsWith(InvalidResponse, 65, `${HYDRA}/build/5/constituents`, "(body): ", "array"),
    );
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("a bad constituent is named by its index", async () => {
    const builds: unknown[] = JSON.parse(fixture("gate-constituents.json"));
    builds[2] = Object.assign({}, builds[2], { jobsetevals: "19022" });
    const hydra = nock(HYDRA).get("/build/5/constituents").reply(200, JSON.stringify(builds), JSON_HEADERS);
    await assert.rejects(makeClient().client.getConstituents(5), failsWith(InvalidResponse, 65, "[2].jobsetevals: "));
    assert.deepEqual(hydra.pendingMocks(), []);
  });
});
