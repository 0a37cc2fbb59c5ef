import assert from "node:assert/strict";
import { afterEach, before, describe, it } from "node:test";
import nock from "nock";
import { HailError, HydraUnavailable } from "../../src/errors.js";
import { HydraSession, loginRequest, sessionCookieFrom } from "../../src/hydra/session.js";
import { redactCredentials } from "../../src/secrets.js";
import { failsWith, fixture, HYDRA, JSON_HEADERS, makeClient, rejection } from "./helpers.js";

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const LOGIN = { user: "deploy-bot", password: "pw-Zq8#rT!x" };
const LOGIN_URL = `${HYDRA}/login`;
const BASIC = { login: "proxy-user", password: "proxy-pw-77" };

type Headers = Record<string, string | string[] | undefined>;
interface Seen { method: string; path: string; headers: Headers; body: unknown }

/** What the interceptors saw, in order: method, path, headers and (parsed) body. */
function recorder() {
  const seen: Seen[] = [];
  const note = (ctx: nock.ReplyFnContext, method: string, path: string, body: unknown) =>
    seen.push({ method, path, headers: { ...ctx.req.headers }, body });
  return { seen, note, cookies: () => seen.filter((s) => s.method === "GET").map((s) => s.headers["cookie"]) };
}
type Recorder = ReturnType<typeof recorder>;

/** Hydra's successful login: a 302 to /current-user, the session among other cookies. */
function loginOk(scope: nock.Scope, { note }: Recorder, session: string): nock.Scope {
  return scope.post("/login").reply(function (path, body) {
    note(this, "POST", path, body);
    return [302, JSON.stringify({ username: LOGIN.user }), {
      location: `${HYDRA}/current-user`,
      "content-type": "application/json",
      "set-cookie": ["theme=dark; path=/", `hydra_session=${session}; path=/; expires=Wed, 01 Jan 2031 00:00:00 GMT; HttpOnly`],
    }];
  });
}

/** `/build/ID`: the Hydra-shaped build, or Hydra's 403 for a request without a valid session. */
function build(scope: nock.Scope, { note }: Recorder, id: number, status: 200 | 403 = 200): nock.Scope {
  return scope.get(`/build/${id}`).reply(function (path, body) {
    note(this, "GET", path, body);
    return status === 200
      ? [200, fixture("gate-build.json").replace('"id": 281734', `"id": ${id}`), JSON_HEADERS]
      : [403, JSON.stringify({ error: "This page requires you to sign in." }), JSON_HEADERS];
  });
}

/** The error says nothing secret: neither password nor any cookie value. */
function keepsSecrets(...secrets: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof HailError, String(err));
    for (const secret of [LOGIN.password, ...secrets]) assert.ok(!err.message.includes(secret), `${err.message} leaks ${secret}`);
    return true;
  };
}

describe("the login request", () => {
  it("POSTs JSON to BASE/login with Origin and Referer, then sends the cookie on every request", async () => {
    const rec = recorder();
    const { seen, cookies } = rec;
    const scope = nock(HYDRA);
    loginOk(scope, rec, "abc123");
    build(scope, rec, 5);
    build(scope, rec, 6);
    const { client, requests } = makeClient({ login: LOGIN });
    await client.getBuild(5);
    await client.getBuild(6);
    assert.deepEqual(scope.pendingMocks(), []);
    const [login] = seen;
    assert.equal(login?.method, "POST");
    assert.equal(login?.path, "/login");
    assert.deepEqual(login?.body, { username: LOGIN.user, password: LOGIN.password });
    assert.equal(login?.headers["content-type"], "application/json");
    assert.equal(login?.headers["accept"], "application/json");
    assert.equal(login?.headers["origin"], HYDRA);
    assert.equal(login?.headers["referer"], `${HYDRA}/`);
    assert.equal(login?.headers["cookie"], undefined);
    assert.deepEqual(cookies(), ["hydra_session=abc123", "hydra_session=abc123"], "one login, its cookie on both requests");
    assert.deepEqual(requests, [LOGIN_URL, `${HYDRA}/build/5`, `${HYDRA}/build/6`]);
  });

  it("sends netrc Basic credentials too, to the login and after it (a proxy may want both)", async () => {
    const rec = recorder();
    const { seen } = rec;
    const scope = nock(HYDRA);
    loginOk(scope, rec, "s1");
    build(scope, rec, 5);
    await makeClient({ login: LOGIN, credentials: BASIC }).client.getBuild(5);
    const basic = `Basic ${Buffer.from(`${BASIC.login}:${BASIC.password}`).toString("base64")}`;
    assert.deepEqual(seen.map((s) => s.headers["authorization"]), [basic, basic]);
    assert.equal(seen[1]?.headers["cookie"], "hydra_session=s1");
  });

  it("under a path prefix: BASE/login, Referer with the prefix, no Origin (it cannot carry a path)", async () => {
    const base = `${HYDRA}/hydra`;
    assert.deepEqual(loginRequest(base, LOGIN), {
      url: `${base}/login`,
      headers: { accept: "application/json", "content-type": "application/json", referer: `${base}/` },
      body: JSON.stringify({ username: LOGIN.user, password: LOGIN.password }),
    });
    assert.equal(loginRequest(HYDRA, LOGIN).headers["origin"], HYDRA);
  });

  const cookies: Array<[string, string[], string | undefined]> = [
    ["alone", ["hydra_session=abc; path=/; HttpOnly"], "abc"],
    ["among others", ["a=1", "hydra_session=def; path=/", "b=2; HttpOnly"], "def"],
    ["the last one wins", ["hydra_session=old; path=/", "hydra_session=new; path=/"], "new"],
    ["folded into one line", ["a=1; expires=Wed, 01 Jan 2031 00:00:00 GMT; path=/, hydra_session=ghi; path=/; HttpOnly"], "ghi"],
    ["a name in an attribute", ["a=1; comment=hydra_session=zzz"], undefined],
    ["none", ["a=1; path=/"], undefined],
    ["a similar name", ["hydra_session_old=abc"], undefined],
    ["an expiring delete cookie", ["hydra_session=; expires=Thu, 01 Jan 1970 00:00:00 GMT"], undefined],
    ["no headers", [], undefined],
  ];
  for (const [what, headers, expected] of cookies) {
    it(`finds the session cookie: ${what}`, () => assert.equal(sessionCookieFrom(headers), expected));
  }
});

describe("a session Hydra forgot", () => {
  it("on a 403 logs in again once and retries the request with the new cookie", async () => {
    const rec = recorder();
    const { cookies } = rec;
    const scope = nock(HYDRA);
    loginOk(scope, rec, "first");
    build(scope, rec, 5);
    build(scope, rec, 6, 403);
    loginOk(scope, rec, "second");
    build(scope, rec, 6);
    const { client, requests } = makeClient({ login: LOGIN });
    await client.getBuild(5);
    assert.equal((await client.getBuild(6)).id, 6);
    assert.deepEqual(scope.pendingMocks(), []);
    assert.deepEqual(cookies(), ["hydra_session=first", "hydra_session=first", "hydra_session=second"]);
    assert.deepEqual(requests, [LOGIN_URL, `${HYDRA}/build/5`, `${HYDRA}/build/6`, LOGIN_URL, `${HYDRA}/build/6`]);
  });

  it("a second 403 right after a fresh login is HydraUnavailable: the login did not help", async () => {
    const rec = recorder();
    const scope = nock(HYDRA);
    loginOk(scope, rec, "first");
    build(scope, rec, 5, 403);
    loginOk(scope, rec, "second");
    build(scope, rec, 5, 403);
    const { client, requests } = makeClient({ login: LOGIN });
    const err = await rejection(client.getBuild(5));
    failsWith(HydraUnavailable, 69, `${HYDRA}/build/5`, "HTTP 403", "requires you to sign in", "login did not help", `"${LOGIN.user}"`, "--hydra-user")(err);
    keepsSecrets("first", "second")(err);
    assert.deepEqual(scope.pendingMocks(), []);
    assert.equal(requests.filter((u) => u === LOGIN_URL).length, 2, "one login, one more: never a loop");
  });

  it("concurrent requests share one login, and one re-login when all are refused", async () => {
    const rec = recorder();
    const { cookies } = rec;
    const scope = nock(HYDRA);
    loginOk(scope, rec, "first");
    for (const id of [1, 2, 3]) build(scope, rec, id, 403);
    loginOk(scope, rec, "second");
    for (const id of [1, 2, 3]) build(scope, rec, id);
    const { client, requests } = makeClient({ login: LOGIN });
    const builds = await Promise.all([1, 2, 3].map((id) => client.getBuild(id)));
    assert.equal(builds.length, 3);
    assert.deepEqual(scope.pendingMocks(), []);
    assert.equal(requests.filter((u) => u === LOGIN_URL).length, 2);
    assert.deepEqual(cookies().sort(), [...Array(3).fill("hydra_session=first"), ...Array(3).fill("hydra_session=second")]);
  });
});

describe("a failed login", () => {
  const failures: Array<[string, (scope: nock.Scope) => void, string[]]> = [
    ["403 bad credentials", (s) => s.post("/login").reply(403, JSON.stringify({ error: "Bad username or password." }), JSON_HEADERS), ["HTTP 403", "Bad username or password.", "--hydra-password-file"]],
    ["401 from a proxy", (s) => s.post("/login").reply(401, "Unauthorized"), ["HTTP 401", "--netrc-file"]],
    ["500 wrong origin, after retries", (s) => s.post("/login").times(3).reply(500, JSON.stringify({ error: "POST requests should come from ‘http://127.0.0.1:3000/’." }), JSON_HEADERS), ["HTTP 500", "http://127.0.0.1:3000/", "another address"]],
    ["302 without a session cookie", (s) => s.post("/login").reply(302, "", { location: "/", "set-cookie": "theme=dark" }), ["HTTP 302", "without a hydra_session cookie"]],
    ["200 without any cookie", (s) => s.post("/login").reply(200, "{}", JSON_HEADERS), ["HTTP 200", "without a hydra_session cookie"]],
    ["403 that sets a cookie anyway", (s) => s.post("/login").reply(403, JSON.stringify({ error: "Bad username or password." }), { ...JSON_HEADERS, "set-cookie": "hydra_session=leaked-cookie-value; path=/" }), ["HTTP 403"]],
    ["a proxy that echoes the body", (s) => s.post("/login").reply(400, (_uri, body) => JSON.stringify({ error: `cannot parse ${JSON.stringify(body)}` }), JSON_HEADERS), ["HTTP 400", "[redacted]"]],
  ];
  for (const [name, intercept, fragments] of failures) {
    it(`${name} -> HydraUnavailable naming the login URL and the user, never the password or a cookie`, async () => {
      const scope = nock(HYDRA);
      intercept(scope);
      const { client, requests } = makeClient({ login: LOGIN });
      const err = await rejection(client.getBuild(5));
      failsWith(HydraUnavailable, 69, LOGIN_URL, `cannot log in as "${LOGIN.user}"`, ...fragments)(err);
      keepsSecrets("leaked-cookie-value")(err);
      assert.deepEqual(scope.pendingMocks(), []);
      assert.ok(!requests.includes(`${HYDRA}/build/5`), "no request goes out without a session");
    });
  }

  it("is not remembered: the next request logs in again", async () => {
    const rec = recorder();
    const { cookies } = rec;
    const scope = nock(HYDRA).post("/login").reply(403, JSON.stringify({ error: "Bad username or password." }), JSON_HEADERS);
    loginOk(scope, rec, "later");
    build(scope, rec, 5);
    const { client } = makeClient({ login: LOGIN });
    await assert.rejects(client.getBuild(5), failsWith(HydraUnavailable, 69, LOGIN_URL));
    assert.equal((await client.getBuild(5)).id, 5);
    assert.deepEqual(scope.pendingMocks(), []);
    assert.deepEqual(cookies(), ["hydra_session=later"]);
  });
});

describe("the session cookies redaction remembers", () => {
  it("the current cookie and the one before; older ones are forgotten, so a long-running daemon does not search for every dead cookie", async () => {
    const cookies = ["cookie-one-0123456789", "cookie-two-0123456789", "cookie-three-0123456789"];
    let logins = 0;
    const session = new HydraSession(HYDRA, { user: "deployer", password: "a-long-password" }, async () => ({
      status: 302,
      setCookies: [`hydra_session=${cookies[logins++] ?? ""}; path=/`],
      body: "",
    }));
    let header = await session.cookieHeader();
    header = await session.renew(header);
    await session.renew(header);
    assert.equal(logins, 3);
    assert.equal(redactCredentials(cookies.join(" ")), `${cookies[0]} [redacted] [redacted]`);
  });
});
