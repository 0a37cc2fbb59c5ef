// Short secrets that are also ordinary words: `main` (the jobset's name), `127` (of 127.0.0.1)
// and `p`, as a netrc password and as a private Hydra's --hydra-password-file. hail's own words
// (the job URL, the profile name, its hints) keep them, in its log, its error and its state
// file; a server echoing the request back (Authorization header, the decoded credential, the
// login body, raw and encoded) still has the credential redacted. The built CLI against the
// Hydra test server on 127.0.0.1; nothing is deployed, so no Nix is needed.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { runHail } from "../support/cli.js";
import { HydraTestServer, type RawResponse, type RecordedRequest } from "../support/hydra-server.js";
import { greenGate } from "./world.js";

const APP = "/nix/store/7xk3w8lbc6r1hzz4q3f0d4c9m2i5y1a0-myapp-1.0";
const USER = "deployer";
/** Holds every secret below as a word: hail's own text, which must come out as it went in. */
const PROFILE = "prod-main-127";
const b64 = (text: string) => Buffer.from(text).toString("base64");

/** A proxy's error page: the request line, its headers, the decoded Basic credential and the body, also URL-encoded. */
function echo(status: number): (req: RecordedRequest) => RawResponse {
  return (req) => {
    const auth = String(req.headers.authorization ?? "");
    const decoded = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8") : "";
    const error = [
      `${req.method} ${req.path} HTTP/1.1`,
      `body ${req.body ?? ""}`,
      `user ${decoded} is not allowed`,
      `query ${encodeURIComponent(decoded)} ${encodeURIComponent(req.body ?? "")}`,
      `headers ${JSON.stringify(req.headers)}`,
    ].join("; ");
    return { status, body: JSON.stringify({ error }), headers: { "content-type": "application/json" } };
  };
}

async function stateTexts(dir: string): Promise<string> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return (await Promise.all(names.map((n) => readFile(path.join(dir, n), "utf8")))).join("\n");
}

for (const secret of ["main", "127", "p"]) {
  describe(`the secret ${JSON.stringify(secret)}`, () => {
    let dir: string;
    let hydra: HydraTestServer;
    let privateHydra: HydraTestServer;
    const env = () => ({ PATH: process.env.PATH ?? "", HOME: dir });
    const args = (url: string, stateDir: string) => [
      "--gate-job", `${url}/job/myproject/main/release_gate`, "--constituent", "myapp", "--profile", PROFILE,
      "--profiles-dir", path.join(dir, "profiles"), "--state-dir", path.join(dir, stateDir), "--log-format", "json", "--log-level", "debug",
    ];
    const assertLacks = (text: string, needles: string[]) => {
      for (const needle of needles) assert.ok(!text.includes(needle), `${JSON.stringify(needle)} appears in:\n${text}`);
    };

    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), "hail-short-secret-"));
      hydra = await HydraTestServer.start();
      privateHydra = await HydraTestServer.start({ private: { user: USER, password: secret } });
      for (const server of [hydra, privateHydra]) for (const b of greenGate(100, 10, APP)) server.addBuild(b);
      await writeFile(path.join(dir, "netrc"), `machine 127.0.0.1 login ${USER} password ${secret}\n`, { mode: 0o600 });
      await writeFile(path.join(dir, "password"), `${secret}\n`, { mode: 0o600 });
    });
    after(async () => {
      await hydra.close();
      await privateHydra.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("as a netrc password: a 500 echoing the request loses the credential; the job URL, the profile and the request line keep the word", async () => {
      hydra.override(/latest-finished$/, echo(500));
      const run = await runHail([...args(hydra.url, "state-netrc"), "--netrc-file", path.join(dir, "netrc"), "--oneshot"], env());
      assert.equal(run.code, 69, run.stderr);
      const sent = hydra.requests.find((q) => q.path.endsWith("/latest-finished"));
      assert.equal(sent?.headers.authorization, `Basic ${b64(`${USER}:${secret}`)}`, "hail sent the credential, and the server echoed it");
      const state = await stateTexts(path.join(dir, "state-netrc"));
      const latest = `${hydra.url}/job/myproject/main/release_gate/latest-finished`;
      for (const [where, text] of [["the log", run.stderr], ["the state file", state]] as const) {
        assert.ok(text.includes(`Hydra unavailable at ${latest}: HTTP 500: Hydra says`), `${where}: ${text}`);
        assert.ok(text.includes("GET /job/myproject/main/release_gate/latest-finished HTTP/1.1"), `${where}: ${text}`);
        assert.ok(text.includes(`"profile":"${PROFILE}"`) || text.includes(`"profile": "${PROFILE}"`), `${where}: ${text}`);
        assert.ok(text.includes("[redacted]"), `${where}: ${text}`);
        assertLacks(text, [b64(`${USER}:${secret}`), `${USER}:${secret}`, encodeURIComponent(`${USER}:${secret}`)]);
      }
    });

    it("as --hydra-password-file: the login works, and nothing in plan's output is redacted", async () => {
      const plan = await runHail(["plan", ...args(privateHydra.url, "state-plan"), "--hydra-user", USER, "--hydra-password-file", path.join(dir, "password"), "--json"], env());
      assert.equal(plan.code, 0, plan.stderr);
      assert.equal((JSON.parse(plan.stdout) as { storePath: string }).storePath, APP);
      assertLacks(plan.stdout + plan.stderr, ["[redacted]"]);
    });

    it("as --hydra-password-file: a refused login echoing the body loses the password field; hail's words keep theirs", async () => {
      privateHydra.override("/login", echo(400));
      try {
        const run = await runHail([...args(privateHydra.url, "state-login"), "--hydra-user", USER, "--hydra-password-file", path.join(dir, "password"), "--oneshot"], env());
        assert.equal(run.code, 69, run.stderr);
        const body = JSON.stringify({ username: USER, password: secret });
        assert.equal(privateHydra.requests.find((q) => q.path === "/login")?.body, body, "the login carried the password");
        const state = await stateTexts(path.join(dir, "state-login"));
        for (const [where, text] of [["the log", run.stderr], ["the state file", state]] as const) {
          assert.ok(text.includes(`Hydra unavailable at ${privateHydra.url}/login: cannot log in as \\"${USER}\\": HTTP 400: Hydra says`), `${where}: ${text}`);
          assert.ok(text.includes("check --hydra-user and the password in --hydra-password-file"), `${where}: ${text}`);
          assert.ok(text.includes(`"profile":"${PROFILE}"`) || text.includes(`"profile": "${PROFILE}"`), `${where}: ${text}`);
          assert.ok(text.includes("[redacted]"), `${where}: ${text}`);
          assertLacks(text, [`"password":"${secret}"`, `\\"password\\":\\"${secret}\\"`, encodeURIComponent(`"password":"${secret}"`), b64(body)]);
        }
      } finally {
        privateHydra.clearOverrides();
      }
    });
  });
}
