// A bot wall in front of Hydra (a challenge page for browsers) is reported as what it is, with
// the User-Agent to allow: never as "invalid JSON", "wants a login" or a refused password.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { afterEach, before, describe, it } from "node:test";
import nock from "nock";
import { HydraUnavailable } from "../../src/errors.js";
import { botWallName, botWallText } from "../../src/hydra/bot-wall.js";
import { USER_AGENT } from "../../src/hydra/user-agent.js";
import { failsWith, fixture, HYDRA, JSON_HEADERS, makeClient } from "./helpers.js";

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const page = (name: string) => readFileSync(new URL(`../../fixtures/hydra/${name}`, import.meta.url), "utf8");
const ANUBIS = page("bot-wall-anubis.html");
const CLOUDFLARE = page("bot-wall-cloudflare.html");
const HTML = { "content-type": "text/html; charset=utf-8" };
const SAYS_WALL = ["bot protection refused hail", `allow User-Agent "${USER_AGENT}"`];

/** Not the messages of the answers a bot wall was taken for before. */
function notMistaken(err: unknown): true {
  const message = err instanceof Error ? err.message : String(err);
  for (const wrong of [/JSON/, /login/, /netrc/, /--hydra-user/]) assert.doesNotMatch(message, wrong);
  return true;
}

describe("which page is a bot wall's", () => {
  it("knows Anubis and Cloudflare's challenge pages", () => {
    assert.equal(botWallName(ANUBIS), "Anubis");
    assert.equal(botWallName(CLOUDFLARE), "Cloudflare");
    assert.equal(botWallName('<html><body><div class="g-recaptcha" data-sitekey="x"></div></body></html>'), "a CAPTCHA");
  });

  it("a sign-in page, Hydra's JSON or plain text is no bot wall", () => {
    assert.equal(botWallName(fixture("login-page.html")), undefined);
    assert.equal(botWallName(JSON.stringify({ error: "Making sure you're not a bot" })), undefined);
    assert.equal(botWallName("Just a moment... (cf-chl)"), undefined);
    assert.equal(botWallText(403, fixture("login-page.html")), undefined);
  });

  it("says the status, the wall and the User-Agent to allow", () => {
    assert.equal(
      botWallText(403, ANUBIS),
      `HTTP 403 with a challenge page of Anubis: Hydra's bot protection refused hail; ask its operators to allow User-Agent "${USER_AGENT}"`,
    );
  });
});

describe("the client meets a bot wall", () => {
  it("a 403 challenge page -> HydraUnavailable (69) naming the wall, not a login problem", async () => {
    const hydra = nock(HYDRA).get("/build/5").twice().reply(403, ANUBIS, HTML);
    await assert.rejects(makeClient().client.getBuild(5), failsWith(HydraUnavailable, 69, "HTTP 403", "Anubis", ...SAYS_WALL));
    await assert.rejects(makeClient().client.getBuild(5), notMistaken);
    assert.deepEqual(hydra.pendingMocks(), []);
  });

  it("a 200 challenge page -> HydraUnavailable naming the wall, not invalid JSON", async () => {
    nock(HYDRA).get("/build/5").reply(200, CLOUDFLARE, HTML);
    await assert.rejects(makeClient().client.getBuild(5), failsWith(HydraUnavailable, 69, "HTTP 200", "Cloudflare", ...SAYS_WALL));
    nock(HYDRA).get("/build/5").reply(200, CLOUDFLARE, HTML);
    await assert.rejects(makeClient().client.getBuild(5), notMistaken);
  });

  it("a 503 or 429 challenge page, after the retries -> HydraUnavailable naming the wall", async () => {
    for (const status of [503, 429]) {
      const hydra = nock(HYDRA).get("/build/5").times(3).reply(status, CLOUDFLARE, HTML);
      await assert.rejects(makeClient().client.getBuild(5), failsWith(HydraUnavailable, 69, `HTTP ${status}`, ...SAYS_WALL));
      assert.deepEqual(hydra.pendingMocks(), []);
    }
  });

  it("a private Hydra: a 403 challenge page is no forgotten session, and a walled login is no wrong password", async () => {
    const login = { user: "deploy-bot", password: "s3cr3t-Pa55" };
    // The session's request meets the wall: no second login is tried.
    const walledPage = nock(HYDRA)
      .post("/login")
      .reply(302, "{}", { location: `${HYDRA}/current-user`, "set-cookie": "hydra_session=abc; path=/" })
      .get("/build/5")
      .reply(403, ANUBIS, HTML);
    await assert.rejects(makeClient({ login }).client.getBuild(5), failsWith(HydraUnavailable, 69, "/build/5", ...SAYS_WALL));
    assert.deepEqual(walledPage.pendingMocks(), []);
    // The login POST itself meets the wall.
    const walledLogin = nock(HYDRA).post("/login").reply(403, ANUBIS, HTML);
    await assert.rejects(makeClient({ login }).client.getBuild(5), (err: unknown) => {
      failsWith(HydraUnavailable, 69, "/login", ...SAYS_WALL)(err);
      assert.doesNotMatch((err as Error).message, /--hydra-password-file/);
      return true;
    });
    assert.deepEqual(walledLogin.pendingMocks(), []);
  });

  it("Hydra's own JSON 403 is still a login problem", async () => {
    nock(HYDRA).get("/build/5").reply(403, JSON.stringify({ error: "This page requires you to sign in." }), JSON_HEADERS);
    await assert.rejects(makeClient().client.getBuild(5), failsWith(HydraUnavailable, 69, /login/));
  });
});
