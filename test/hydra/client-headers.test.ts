import assert from "node:assert/strict";
import { afterEach, before, describe, it } from "node:test";
import nock from "nock";
import { HailError, UsageError } from "../../src/errors.js";
import { HydraClient } from "../../src/hydra/client.js";
import { USER_AGENT, userAgentOf } from "../../src/hydra/user-agent.js";
import { fixture, GATE, GATE_PATH, HYDRA, JSON_HEADERS, makeClient } from "./helpers.js";

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const CREDENTIALS = { login: "deploy-bot", password: "s3cr3t-Pa55" };
const BASIC = `Basic ${Buffer.from("deploy-bot:s3cr3t-Pa55").toString("base64")}`;

type Headers = Record<string, string | string[] | undefined>;

/** Intercept a redirect and the build it points to, recording the headers of both requests. */
function recordHeaders(): { seen: Headers[]; scope: nock.Scope } {
  const seen: Headers[] = [];
  const scope = nock(HYDRA)
    .get(`${GATE_PATH}/latest-finished`)
    .reply(function () {
      seen.push({ ...this.req.headers });
      return [302, "", { location: "http://127.0.0.1:3000/build/281734" }];
    })
    .get("/build/281734")
    .reply(function () {
      seen.push({ ...this.req.headers });
      return [200, fixture("gate-build.json"), JSON_HEADERS];
    });
  return { seen, scope };
}

async function resolveAndFetch(client: HydraClient): Promise<void> {
  await client.getBuild((await client.latest(GATE, "latest-finished")).id);
}

describe("request headers", () => {
  it("always sends Accept: application/json and no Authorization without credentials", async () => {
    const { seen, scope } = recordHeaders();
    await resolveAndFetch(makeClient().client);
    assert.deepEqual(scope.pendingMocks(), []);
    assert.equal(seen.length, 2);
    for (const headers of seen) {
      assert.equal(headers["accept"], "application/json");
      assert.equal(headers["authorization"], undefined);
    }
  });

  it("names hail in a User-Agent on every request, the login POST included", async () => {
    const { seen, scope } = recordHeaders();
    const login = nock(HYDRA)
      .post("/login")
      .reply(function () {
        seen.push({ ...this.req.headers });
        return [302, "{}", { location: `${HYDRA}/current-user`, "set-cookie": "hydra_session=abc; path=/" }];
      });
    await resolveAndFetch(makeClient({ login: { user: "deploy-bot", password: "s3cr3t-Pa55" } }).client);
    assert.deepEqual([...scope.pendingMocks(), ...login.pendingMocks()], []);
    assert.equal(seen.length, 3);
    for (const headers of seen) assert.equal(headers["user-agent"], USER_AGENT);
    assert.match(USER_AGENT, /^hail\/\S+ \(pull deployer\)$/);
  });

  it("the User-Agent carries the version hail was built as", () => {
    assert.equal(userAgentOf({ version: "0.2.0" }), "hail/0.2.0 (pull deployer)");
  });

  it("sends HTTP Basic on every request when credentials are given, never in the URL", async () => {
    const { seen, scope } = recordHeaders();
    const { client, requests } = makeClient({ credentials: CREDENTIALS });
    await resolveAndFetch(client);
    assert.deepEqual(scope.pendingMocks(), []);
    assert.deepEqual(seen.map((headers) => headers["authorization"]), [BASIC, BASIC]);
    assert.deepEqual(requests, [`${HYDRA}${GATE_PATH}/latest-finished`, `${HYDRA}/build/281734`]);
  });

  it("refuses a base URL with credentials in it, without repeating them", () => {
    assert.throws(
      () => new HydraClient({ baseUrl: "https://deploy-bot:s3cr3t-Pa55@hydra.example", timeoutMs: 1000 }),
      (err: unknown) => err instanceof UsageError && !err.message.includes("s3cr3t") && err.message.includes("netrc"),
    );
  });
});

describe("credentials never appear in error messages", () => {
  const failures: Array<[string, (scope: nock.Scope) => void]> = [
    ["404", (s) => s.get("/build/5").reply(404, fixture("error-404.json"), JSON_HEADERS)],
    ["403", (s) => s.get("/build/5").reply(403, "forbidden")],
    ["500 x3", (s) => s.get("/build/5").times(3).reply(500, JSON.stringify({ error: "boom" }), JSON_HEADERS)],
    ["HTML", (s) => s.get("/build/5").reply(200, fixture("login-page.html"), { "content-type": "text/html" })],
    ["{}", (s) => s.get("/build/5").reply(200, "{}", JSON_HEADERS)],
    ["truncated", (s) => s.get("/build/5").reply(200, '{"id": 5, "fin', JSON_HEADERS)],
    ["no Location", (s) => s.get("/build/5").reply(302, "")],
    ["refused", (s) => s.get("/build/5").times(3).replyWithError(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))],
    ["timeout", (s) => s.get("/build/5").delay(200).reply(200, "{}", JSON_HEADERS)],
  ];
  for (const [name, intercept] of failures) {
    it(name, async () => {
      const scope = nock(HYDRA);
      intercept(scope);
      // Only the timeout case needs a short timeout; under load a 50 ms one would also cut off
      // the retried 500s and refusals before their intercepts are used up.
      const { client } = makeClient({ credentials: CREDENTIALS, timeoutMs: name === "timeout" ? 50 : 10_000 });
      await assert.rejects(client.getBuild(5), (err: unknown) => {
        assert.ok(err instanceof HailError, String(err));
        for (const secret of [CREDENTIALS.login, CREDENTIALS.password, BASIC.slice("Basic ".length)]) {
          assert.ok(!err.message.includes(secret), `${err.message} leaks ${secret}`);
        }
        return true;
      });
      assert.deepEqual(scope.pendingMocks(), []);
    });
  }
});
