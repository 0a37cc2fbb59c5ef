// Credentials that a server echoes back are redacted where its text enters a message; hail's
// own words (the job URL, 127.0.0.1, words with a "p") are not, even when a secret equals one
// of them. Hydra data that carries a credential is refused rather than quoted or acted on.
import assert from "node:assert/strict";
import { afterEach, before, describe, it } from "node:test";
import nock from "nock";
import { HydraUnavailable, InvalidResponse, NotReady } from "../../src/errors.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import { failsWith, fixture, HYDRA, JSON_HEADERS, makeClient, rejection } from "./helpers.js";

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const USER = "deployer";
const LONG = "s3cret-Hydra-pass";
/** The jobset is called `main`, like the short password below. */
const JOB = parseJobUrl(`${HYDRA}/job/acme/main/release_gate`);
const LATEST = `${HYDRA}/job/acme/main/release_gate/latest-finished`;
const basic = (password: string) => Buffer.from(`${USER}:${password}`).toString("base64");

/** An error body that echoes the request as proxies do: the Authorization header, the decoded credential, URL-encoded. */
function echoBody(password: string): string {
  const credential = `${USER}:${password}`;
  return JSON.stringify({
    error: `GET /job/acme/main/release_gate/latest-finished HTTP/1.1 Authorization: Basic ${basic(password)}; user ${credential}; query ${encodeURIComponent(credential)}`,
  });
}

describe("netrc password `main`, the name of the jobset", () => {
  const credentials = { login: USER, password: "main" };

  it("a 500 echoing the request: the credential is redacted, the job URL and Hydra's text keep `main`", async () => {
    nock(HYDRA).get("/job/acme/main/release_gate/latest-finished").times(3).reply(500, echoBody("main"), JSON_HEADERS);
    const err = await rejection(makeClient({ credentials }).client.latest(JOB, "latest-finished"));
    failsWith(HydraUnavailable, 69, `Hydra unavailable at ${LATEST}: HTTP 500`, "GET /job/acme/main/release_gate/latest-finished HTTP/1.1", "[redacted]")(err);
    for (const leak of [basic("main"), `${USER}:main`, `${USER}%3Amain`]) assert.ok(!err.message.includes(leak), `${leak} in ${err.message}`);
  });

  it("Hydra quoting the jobset by name: passed on as it is", async () => {
    nock(HYDRA).get("/job/acme/main/release_gate/latest-finished").reply(404, JSON.stringify({ error: "Jobset ‘acme:main’ doesn't exist." }), JSON_HEADERS);
    const err = await rejection(makeClient({ credentials }).client.latest(JOB, "latest-finished"));
    failsWith(NotReady, 75, `nothing deployable yet at ${LATEST}: Hydra says "Jobset ‘acme:main’ doesn't exist."`)(err);
    assert.ok(!err.message.includes("[redacted]"), err.message);
  });
});

describe("netrc password `127` and a Hydra on 127.0.0.1", () => {
  it("a 500 echoing the request: redacted, while 127.0.0.1 in hail's URL and in Hydra's text stays", async () => {
    const base = "http://127.0.0.1:3000";
    const job = parseJobUrl(`${base}/job/acme/main/release_gate`);
    nock(base)
      .get("/job/acme/main/release_gate/latest-finished")
      .times(3)
      .reply(500, JSON.stringify({ error: `POST requests should come from ‘http://127.0.0.1:3000/’; you sent ${basic("127")}` }), JSON_HEADERS);
    const err = await rejection(makeClient({ baseUrl: base, credentials: { login: USER, password: "127" } }).client.latest(job, "latest-finished"));
    failsWith(HydraUnavailable, 69, `Hydra unavailable at ${base}/job/acme/main/release_gate/latest-finished`, "‘http://127.0.0.1:3000/’", "you sent [redacted]")(err);
    assert.ok(!err.message.includes(basic("127")), err.message);
  });
});

describe("a private Hydra's password `p`", () => {
  it("a login refused with the body echoed: the password field is redacted, every word with a p is not", async () => {
    nock(HYDRA)
      .post("/login")
      .reply(400, (_uri, body) => JSON.stringify({ error: `cannot parse ${JSON.stringify(body)}: please sign up` }), JSON_HEADERS);
    const err = await rejection(makeClient({ login: { user: USER, password: "p" } }).client.getBuild(5));
    failsWith(HydraUnavailable, 69, `${HYDRA}/login`, `cannot log in as "${USER}"`, "HTTP 400", "[redacted]", "please sign up", "check --hydra-user and the password in --hydra-password-file")(err);
    assert.ok(!err.message.includes('"password":"p"') && !err.message.includes('\\"password\\":\\"p\\"'), err.message);
  });
});

describe("Hydra data that carries a credential hail sent is refused, not quoted or acted on", () => {
  const credentials = { login: USER, password: LONG };

  it("a build whose job name holds user:password: 65, naming the field, never the value", async () => {
    const build = { ...(JSON.parse(fixture("gate-build.json")) as Record<string, unknown>), job: `x-${USER}:${LONG}` };
    nock(HYDRA).get("/build/100").reply(200, JSON.stringify(build), JSON_HEADERS);
    const err = await rejection(makeClient({ credentials }).client.getBuild(100));
    failsWith(InvalidResponse, 65, `${HYDRA}/build/100`, "carries a credential hail sent (in job)")(err);
    assert.ok(!err.message.includes(LONG), err.message);
  });

  it("a build of a project named like the password is just that: accepted", async () => {
    const build: Record<string, unknown> = { ...(JSON.parse(fixture("gate-build.json")) as Record<string, unknown>), project: LONG };
    nock(HYDRA).get(`/build/${String(build.id)}`).reply(200, JSON.stringify(build), JSON_HEADERS);
    assert.equal((await makeClient({ credentials }).client.getBuild(Number(build.id))).project, LONG);
  });

  it("constituents whose output name is the Basic token, URL-encoded: refused, the key shown redacted", async () => {
    const build = JSON.parse(fixture("gate-build.json")) as Record<string, unknown>;
    const key = encodeURIComponent(basic(LONG));
    nock(HYDRA).get("/build/100/constituents").reply(200, JSON.stringify([{ ...build, buildoutputs: { [key]: { path: null } } }]), JSON_HEADERS);
    const err = await rejection(makeClient({ credentials }).client.getConstituents(100));
    failsWith(InvalidResponse, 65, "carries a credential hail sent (in [0].buildoutputs.[redacted])")(err);
    assert.ok(!err.message.includes(key), err.message);
  });

  it("a redirect to a path that carries the Basic token is not followed", async () => {
    const scope = nock(HYDRA).get("/job/acme/main/release_gate/latest-finished").reply(302, "", { location: `/job/acme/${encodeURIComponent(basic(LONG))}/x/latest-finished` });
    const err = await rejection(makeClient({ credentials }).client.latest(JOB, "latest-finished"));
    failsWith(InvalidResponse, 65, `invalid response from ${LATEST}: HTTP 302 redirects to a path that carries a credential hail sent; not following it`)(err);
    assert.ok(!err.message.includes(encodeURIComponent(basic(LONG))), err.message);
    assert.deepEqual(scope.pendingMocks(), []);
  });

  it("a malformed body quoting the password as a key: the field path shows it redacted", async () => {
    const build = { ...(JSON.parse(fixture("gate-build.json")) as Record<string, unknown>), buildoutputs: { [LONG]: { path: 5 } } };
    nock(HYDRA).get("/build/100").reply(200, JSON.stringify(build), JSON_HEADERS);
    const err = await rejection(makeClient({ credentials }).client.getBuild(100));
    failsWith(InvalidResponse, 65, "buildoutputs.[redacted].path")(err);
    assert.ok(!err.message.includes(LONG), err.message);
  });
});
