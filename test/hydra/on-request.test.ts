// onRequest is a ky beforeRequest hook (src/hydra/client.ts): it hears every attempt, retries
// and the login POST included, with the URL as hail wrote it, the one its messages name (not
// the Request's normalised form, which lowercases the host and drops a default port).
import assert from "node:assert/strict";
import { afterEach, before, it } from "node:test";
import nock from "nock";
import { HydraClient } from "../../src/hydra/client.js";
import { fixture, JSON_HEADERS } from "./helpers.js";

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

it("onRequest hears each attempt, the login POST too, with the URL as hail wrote it", async () => {
  const base = "https://Hydra.Example:443";
  const hydra = nock("https://hydra.example")
    .post("/login")
    .reply(200, "{}", { "set-cookie": "hydra_session=abc; path=/" })
    .get("/build/281734")
    .reply(503, "busy")
    .get("/build/281734")
    .reply(200, fixture("gate-build.json"), JSON_HEADERS);
  const heard: string[] = [];
  const client = new HydraClient({
    baseUrl: base,
    timeoutMs: 2_000,
    retryDelayMs: 1,
    login: { user: "deployer", password: "pw" },
    onRequest: ({ method, url }) => heard.push(`${method} ${url}`),
  });
  await client.getBuild(281734);
  assert.deepEqual(heard, [`POST ${base}/login`, `GET ${base}/build/281734`, `GET ${base}/build/281734`]);
  assert.deepEqual(hydra.pendingMocks(), []);
});
