// Servers that echo the request back — its headers, its body — in their error answers: the
// netrc password, the Basic token, a private Hydra's login password and its session cookie
// must appear in no encoding (raw, JSON-escaped, URL-encoded, base64) and in no half of one,
// in logs, plan output, the state file or /healthz. The built CLI against the Hydra test
// server on 127.0.0.1; nothing is deployed, so no Nix is needed.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HailDaemon, runHail, type HailRun } from "../support/cli.js";
import { HydraTestServer, type RecordedRequest, type RawResponse } from "../support/hydra-server.js";
import { greenGate } from "./world.js";

const APP = "/nix/store/7xk3w8lbc6r1hzz4q3f0d4c9m2i5y1a0-myapp-1.0";
const USER = "deployer";

/**
 * A password with a quote, a backslash, a percent sign and non-ASCII, and four random
 * pieces: finding any one of them anywhere means some part of the password got out.
 */
function hostilePassword(): { password: string; halves: string[] } {
  const pieces = Array.from({ length: 4 }, () => randomBytes(3).toString("hex"));
  return { password: `Q${pieces[0]}${pieces[1]}q"w\\%41 ü€😀-${pieces[2]}${pieces[3]}`, halves: pieces };
}

/** Every form of a secret that must not get out, and the random halves of the password. */
function needlesFor(secret: string, extra: string[] = []): string[] {
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(JSON.stringify(secret)).slice(1, -1),
    encodeURIComponent(secret),
    Buffer.from(secret).toString("base64"),
    ...extra,
  ];
}

/**
 * An answer that echoes the request: everything it got, in the forms proxies and frameworks
 * use, behind enough padding that the secret straddles a 200-character cut.
 */
function echo(status: number, contentType = "application/json", padding = 170): (req: RecordedRequest) => RawResponse {
  return (req) => {
    const auth = String(req.headers.authorization ?? "");
    const decoded = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8") : "";
    const text = [
      // No padding: the password comes first, where a parser's message quotes the body.
      padding > 0 ? "x".repeat(padding) : `${decoded.slice(decoded.indexOf(":") + 1)} is not the password`,
      `body ${req.body ?? ""}`,
      `user ${decoded} is not allowed`,
      `cookie ${String(req.headers.cookie ?? "")}`,
      `headers ${JSON.stringify(req.headers)}`,
      `query ${encodeURIComponent(decoded)} ${encodeURIComponent(String(req.headers.cookie ?? ""))}`,
    ].join("; ");
    const body = contentType === "application/json" ? JSON.stringify({ error: text, request: req.headers }) : text;
    return { status, body, headers: { "content-type": contentType } };
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : Promise.resolve([path.join(dir, e.name)]))));
  return nested.flat();
}

describe("secrets never leak through echoed error text (netrc password, Basic token)", () => {
  let dir: string;
  let hydra: HydraTestServer;
  let netrc: string;
  const { password, halves } = hostilePassword();
  const token = Buffer.from(`${USER}:${password}`).toString("base64");
  const needles = needlesFor(password, [token, ...halves]);
  const env = () => ({ PATH: process.env.PATH ?? "", HOME: dir });
  const args = (profile: string) => [
    "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp", "--profile", profile,
    "--profiles-dir", path.join(dir, "profiles"), "--state-dir", path.join(dir, "state"), "--netrc-file", netrc,
    "--log-format", "json", "--log-level", "debug", "--timeout", "10s",
  ];
  const assertClean = (where: string, text: string) => {
    for (const needle of needles) assert.ok(!text.includes(needle), `${JSON.stringify(needle)} appears in ${where}:\n${text}`);
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hail-echo-"));
    hydra = await HydraTestServer.start();
    for (const b of greenGate(100, 10, APP)) hydra.addBuild(b);
    netrc = path.join(dir, "netrc");
    // netrc quoting: the quote and the backslash escaped with a backslash.
    await writeFile(netrc, `machine 127.0.0.1 login ${USER} password "${password.replace(/[\\"]/g, (c) => `\\${c}`)}"\n`, { mode: 0o600 });
  });
  after(async () => {
    await hydra.close();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: Array<[string, number, string, number]> = [
    ["a 500 whose JSON error echoes the request (retried, then given up)", 500, "application/json", 69],
    ["a 403 whose JSON error echoes the request", 403, "application/json", 69],
    ["a 404 whose JSON error echoes the request", 404, "application/json", 75],
    ["a 400 whose JSON error echoes the request", 400, "application/json", 65],
    ["a 200 that echoes the request as text, not JSON", 200, "text/plain", 65],
    ["a 200 that echoes the request as text, password first (V8 quotes the start of a body it cannot parse)", 200, "text/plain;", 65],
  ];
  for (const [what, status, type, code] of cases) {
    it(`${what}: exit ${code}; the secret is in no log, plan output or state file`, async () => {
      const profile = `p${status}${type.length}`;
      hydra.resetRequests();
      hydra.override(/latest-finished$/, echo(status, type.replace(/;$/, ""), type.endsWith(";") ? 0 : 170));
      try {
        const runs: [string, HailRun][] = [
          ["oneshot", await runHail([...args(profile), "--oneshot"], env())],
          ["plan", await runHail(["plan", ...args(profile)], env())],
          ["plan --json", await runHail(["plan", ...args(profile), "--json"], env())],
        ];
        const [, oneshot] = runs[0] as [string, HailRun];
        assert.equal(oneshot.code, code, oneshot.stderr);
        // The server did get the secret, and echoed it back.
        const sent = hydra.requests.find((q) => q.path.endsWith("/latest-finished"));
        assert.equal(sent?.headers.authorization, `Basic ${token}`);
        for (const [name, r] of runs) {
          assertClean(`${name} stdout`, r.stdout);
          assertClean(`${name} stderr`, r.stderr);
        }
        for (const file of await filesUnder(path.join(dir, "state"))) assertClean(file, await readFile(file, "utf8"));
        if (status !== 200) assert.match(oneshot.stderr, /\[redacted\]/, "the echo was passed on, redacted");
      } finally {
        hydra.clearOverrides();
      }
    });
  }

  it("a daemon: the echo reaches neither its log nor the unauthenticated /healthz", async () => {
    hydra.override(/latest-finished$/, echo(500));
    const daemon = HailDaemon.start([...args("daemon"), "--poll-period", "1h", "--metrics-listen", "127.0.0.1:0"], env());
    try {
      await daemon.waitFor(/Hydra unavailable/, "the failed pass");
      const started = daemon.logLines().find((l) => String(l.msg).startsWith("hail started"));
      const health = await fetch(`${String(started?.metricsUrl)}/healthz`);
      const body = await health.text();
      assert.equal(health.status, 503, body);
      assert.match(body, /\[redacted\]/);
      assertClean("/healthz", body);
      assert.equal(await daemon.stop("SIGTERM"), 0);
      assertClean("the daemon's log", daemon.stderr);
      for (const file of await filesUnder(path.join(dir, "state"))) assertClean(file, await readFile(file, "utf8"));
    } finally {
      if (daemon.alive) await daemon.stop("SIGKILL");
      hydra.clearOverrides();
    }
  });
});

describe("secrets never leak through echoed error text (a private Hydra's password and session cookie)", () => {
  let dir: string;
  let hydra: HydraTestServer;
  let passwordFile: string;
  const { password, halves } = hostilePassword();
  const env = () => ({ PATH: process.env.PATH ?? "", HOME: dir });
  const args = (profile: string) => [
    "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp", "--profile", profile,
    "--profiles-dir", path.join(dir, "profiles"), "--state-dir", path.join(dir, "state"),
    "--hydra-user", USER, "--hydra-password-file", passwordFile, "--log-format", "json", "--log-level", "debug",
  ];
  const assertClean = (where: string, text: string, needles: string[]) => {
    for (const needle of needles) assert.ok(!text.includes(needle), `${JSON.stringify(needle)} appears in ${where}:\n${text}`);
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hail-echo-private-"));
    hydra = await HydraTestServer.start({ private: { user: USER, password } });
    for (const b of greenGate(100, 10, APP)) hydra.addBuild(b);
    passwordFile = path.join(dir, "hydra-password");
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  });
  after(async () => {
    await hydra.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a login refused with the login body echoed in Hydra's JSON error: exit 69, no form of the password anywhere", async () => {
    hydra.override("/login", echo(403, "application/json", 150));
    try {
      const oneshot = await runHail([...args("login"), "--oneshot"], env());
      const plan = await runHail(["plan", ...args("login"), "--json"], env());
      assert.equal(oneshot.code, 69, oneshot.stderr);
      assert.equal(plan.code, 69, plan.stderr);
      const login = hydra.requests.find((q) => q.path === "/login");
      assert.equal((JSON.parse(login?.body ?? "{}") as { password?: string }).password, password, "the login carried the password");
      const needles = needlesFor(password, halves);
      for (const [where, text] of [["oneshot", oneshot.stdout + oneshot.stderr], ["plan", plan.stdout + plan.stderr]] as const) assertClean(where, text, needles);
      for (const file of await filesUnder(path.join(dir, "state"))) assertClean(file, await readFile(file, "utf8"), needles);
      assert.match(oneshot.stderr, /\[redact/, "the echo was passed on, redacted before it was cut");
    } finally {
      hydra.clearOverrides();
    }
  });

  it("after a good login, a 500 echoing the Cookie header: the session cookie appears nowhere", async () => {
    hydra.override(/latest-finished$/, echo(500, "application/json", 0));
    const daemon = HailDaemon.start([...args("cookie"), "--poll-period", "1h", "--metrics-listen", "127.0.0.1:0"], env());
    try {
      await daemon.waitFor(/Hydra unavailable/, "the failed pass");
      const cookie = hydra.issuedSessions.at(-1) ?? "";
      assert.ok(cookie !== "" && hydra.requests.some((q) => q.headers.cookie === `hydra_session=${cookie}`), "hail sent the session cookie");
      const started = daemon.logLines().find((l) => String(l.msg).startsWith("hail started"));
      const body = await (await fetch(`${String(started?.metricsUrl)}/healthz`)).text();
      const oneshot = await runHail([...args("cookie-oneshot"), "--oneshot"], env());
      assert.equal(oneshot.code, 69, oneshot.stderr);
      assert.equal(await daemon.stop("SIGTERM"), 0);
      const cookies = [cookie, ...hydra.issuedSessions];
      const needles = [...needlesFor(password, halves), ...cookies];
      assertClean("/healthz", body, needles);
      assertClean("the daemon's log", daemon.stderr, needles);
      assertClean("the one-shot", oneshot.stdout + oneshot.stderr, needles);
      for (const file of await filesUnder(path.join(dir, "state"))) assertClean(file, await readFile(file, "utf8"), needles);
    } finally {
      if (daemon.alive) await daemon.stop("SIGKILL");
      hydra.clearOverrides();
    }
  });
});
