// A private Hydra end to end: the built CLI logs in with --hydra-user/--hydra-password-file,
// deploys through a gate with real Nix, logs in again when Hydra forgets the session, and
// never lets the password or the session cookie out. The binary cache stays public here:
// Nix cannot send hail's cookie, so a private Hydra's cache needs Nix's own netrc-file or a
// separate public cache.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, readFile, readlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HailDaemon, makeNixSpy, readLines, runHail, type HailRun } from "../support/cli.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { createNixLab, type NixLab } from "../support/nix-lab.js";
import { greenGate, publishedApps } from "./world.js";

const USER = "deployer";

describe("a private Hydra (--hydra-user, --hydra-password-file) with real Nix", () => {
  const password = `pw-${randomBytes(16).toString("hex")}`;
  const wrongPassword = `wrong-${randomBytes(16).toString("hex")}`;
  let lab: NixLab;
  let hydra: HydraTestServer;
  let spy: Awaited<ReturnType<typeof makeNixSpy>>;
  let env: NodeJS.ProcessEnv;
  let stateDir: string;
  let passwordFile: string;
  let app1: string;
  let app2: string;
  /** Everything hail printed, for the leak check at the end. */
  const outputs: string[] = [];
  const daemons: HailDaemon[] = [];

  const gateArgs = (profile: string) => [
    "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp", "--profile", profile,
    "--profiles-dir", lab.profilesDir, "--state-dir", stateDir, "--log-format", "json", "--log-level", "debug",
  ];
  const loginArgs = (file = passwordFile) => ["--hydra-user", USER, "--hydra-password-file", file];
  const hail = async (args: string[]): Promise<HailRun> => {
    const r = await runHail(args, env);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const logins = () => hydra.requests.filter((q) => q.method === "POST" && q.path === "/login").length;
  const profileTarget = async (profile: string): Promise<string | null> => {
    try {
      const link = path.join(lab.profilesDir, profile);
      return await readlink(path.resolve(path.dirname(link), await readlink(link)));
    } catch {
      return null;
    }
  };

  before(async () => {
    lab = await createNixLab();
    hydra = await HydraTestServer.start({ cacheDir: lab.cacheDir, private: { user: USER, password } });
    spy = await makeNixSpy(lab.root);
    env = { ...lab.envFor(hydra.url), PATH: `${spy.binDir}:${process.env.PATH ?? ""}`, HAIL_TEST_ACTIVATION_LOG: path.join(lab.root, "activations.log") };
    stateDir = path.join(lab.root, "state");
    passwordFile = path.join(lab.root, "hydra-password");
    // With the newline `echo` leaves: hail must strip it, or the login fails.
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    [app1, app2] = (await publishedApps(lab, { name: "myapp", version: "1" }, { name: "myapp", version: "2" })) as [string, string];
    for (const b of greenGate(100, 10, app1)) hydra.addBuild(b);
  });
  after(async () => {
    for (const d of daemons) if (d.alive) await d.stop("SIGKILL");
    await hydra.close();
    await lab.cleanup();
  });

  it("without a login, the private Hydra refuses hail: exit 69, with the flags to use", async () => {
    const r = await hail([...gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 69, r.stderr);
    assert.match(r.stderr, /HTTP 403: Hydra says \\"This page requires you to sign in\.\\"/);
    assert.match(r.stderr, /--hydra-user and --hydra-password-file/);
    assert.equal(await profileTarget("myapp"), null);
  });

  it("logs in with POST /login, then deploys through the gate with the session cookie", async () => {
    hydra.resetRequests();
    const r = await hail([...gateArgs("myapp"), ...loginArgs(), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployed build 101 /);
    assert.equal(await profileTarget("myapp"), app1);
    assert.deepEqual(await readLines(env.HAIL_TEST_ACTIVATION_LOG ?? ""), [`activated ${app1} build=101`]);

    const isCache = (p: string) => /\.narinfo$|^\/nar\/|^\/nix-cache-info$/.test(p);
    const [login, ...rest] = hydra.requests.filter((q) => !isCache(q.path));
    assert.equal(login?.method, "POST");
    assert.equal(login?.path, "/login");
    assert.equal(login?.headers["content-type"], "application/json");
    assert.equal(login?.headers["origin"], hydra.url);
    assert.deepEqual(JSON.parse(login?.body ?? "null"), { username: USER, password });
    assert.ok(rest.some((q) => q.path === "/job/myproject/main/release_gate/latest-finished"), "the gate was resolved after the login");
    const session = `hydra_session=${hydra.issuedSessions.at(-1)}`;
    for (const q of rest) assert.equal(q.headers["cookie"], session, `${q.method} ${q.path} carries the session`);
    assert.equal(logins(), 1, "one login per run");
  });

  it("plan --json works through the login too", async () => {
    for (const b of greenGate(200, 20, app2)) hydra.addBuild(b);
    const r = await hail(["plan", ...gateArgs("myapp"), ...loginArgs(), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as { action: string; buildId: number; storePath: string };
    assert.deepEqual([plan.action, plan.buildId, plan.storePath], ["deploy", 201, app2]);
    hydra.removeBuild(200);
    hydra.removeBuild(201);
    hydra.removeBuild(202);
  });

  it("a wrong password: exit 69 naming the login URL and the user, and nothing deployed", async () => {
    const wrongFile = path.join(lab.root, "wrong-password");
    await writeFile(wrongFile, wrongPassword, { mode: 0o600 });
    const callsBefore = (await spy.calls()).length;
    const r = await hail([...gateArgs("other"), ...loginArgs(wrongFile), "--oneshot"]);
    assert.equal(r.code, 69, r.stderr);
    assert.ok(r.stderr.includes(`${hydra.url}/login`), r.stderr);
    assert.ok(r.stderr.includes(`cannot log in as \\"${USER}\\"`), r.stderr);
    assert.match(r.stderr, /Bad username or password/);
    assert.ok(!r.stderr.includes(wrongPassword) && !r.stdout.includes(wrongPassword), "the wrong password is not echoed");
    assert.equal(await profileTarget("other"), null);
    assert.equal((await spy.calls()).length, callsBefore, "no nix command ran");
  });

  it("Hydra believing it lives elsewhere refuses the login with its own words, which hail passes on", async () => {
    hydra.locationBase = "http://127.0.0.1:3000";
    try {
      const r = await hail(["plan", ...gateArgs("myapp"), ...loginArgs()]);
      assert.equal(r.code, 69, r.stderr);
      assert.ok(r.stderr.includes("POST requests should come from ‘http://127.0.0.1:3000/’"), r.stderr);
    } finally {
      hydra.locationBase = hydra.url;
    }
  });

  it("the daemon logs in again when Hydra forgets the session between polls, and keeps deploying", async () => {
    const daemon = HailDaemon.start([...gateArgs("daemon-app"), ...loginArgs(), "--poll-period", "1s"], env);
    daemons.push(daemon);
    await daemon.waitFor(async () => (await profileTarget("daemon-app")) === app1, "the first deployment");
    const loginsBefore = logins();
    const linesBefore = daemon.logLines().length;

    // Expire first, then publish: the build is only seen with a session renewed after the expiry.
    hydra.expireSessions();
    for (const b of greenGate(300, 30, app2)) hydra.addBuild(b);
    await daemon.waitFor(async () => (await profileTarget("daemon-app")) === app2, "the deployment after the expiry");
    assert.equal(logins(), loginsBefore + 1, "exactly one new login after the expiry");
    assert.deepEqual(
      daemon.logLines().slice(linesBefore).filter((l) => l.errorKind !== undefined),
      [],
      "no pass failed: the 403 was answered by a new login",
    );
    // One idle pass more, so the debug log of a whole cycle is in the leak check below.
    await daemon.waitFor(/profile is up to date/, "an idle pass after the deployment");
    assert.equal(await daemon.stop("SIGTERM"), 0);
    outputs.push(daemon.stderr);
  });

  it("usage errors: both flags or neither, a readable, non-empty password file (exit 64, no request)", async () => {
    const emptyFile = path.join(lab.root, "empty-password");
    await writeFile(emptyFile, "\n", { mode: 0o600 });
    const missing = path.join(lab.root, "no-such-password");
    const cases: Array<[string[], RegExp]> = [
      [["--hydra-user", USER], /--hydra-user needs --hydra-password-file/],
      [["--hydra-password-file", passwordFile], /--hydra-password-file needs --hydra-user/],
      [loginArgs(missing), new RegExp(`--hydra-password-file ${missing}: cannot read it`)],
      [loginArgs(emptyFile), new RegExp(`--hydra-password-file ${emptyFile} is empty`)],
    ];
    for (const [flags, message] of cases) {
      hydra.resetRequests();
      const r = await hail(["plan", ...gateArgs("myapp"), ...flags]);
      assert.equal(r.code, 64, `${flags.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.deepEqual(hydra.requests, [], `${flags.join(" ")}: no request reached Hydra`);
    }
  });

  it("the password and the session cookies appear in no output, state file, or nix command line", async () => {
    const sessions = hydra.issuedSessions;
    assert.ok(sessions.length >= 4, `sessions handed out: ${sessions.length}`);
    const files = (await readdir(stateDir)).map((name) => path.join(stateDir, name));
    assert.ok(files.some((f) => f.endsWith(".json")), `state files: ${files.join(", ")}`);
    const places: Array<[string, string]> = [
      ...outputs.map((text, i): [string, string] => [`output ${i}`, text]),
      ...(await Promise.all(files.map(async (f): Promise<[string, string]> => [f, await readFile(f, "utf8")]))),
      ["nix command lines", (await spy.calls()).join("\n")],
      ["activation log", (await readLines(env.HAIL_TEST_ACTIVATION_LOG ?? "")).join("\n")],
    ];
    assert.ok(places.some(([, text]) => text.includes("profile is up to date")), "debug logs were collected");
    for (const [where, text] of places) {
      assert.ok(!text.includes(password), `the password leaks into ${where}`);
      for (const cookie of sessions) assert.ok(!text.includes(cookie), `a session cookie leaks into ${where}`);
    }
  });
});
