import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { z } from "zod";
import { type FakeBuild, HydraTestServer } from "./hydra-server.js";

const JSON_ACCEPT = { Accept: "application/json" };
const APP1 = "/nix/store/5nj1nfm0lld2jjlqi7wjrv7vhcaig3w0-myapp-1.0";
const APP2 = "/nix/store/0k0w3kfr3x9cp8hmnsj9cqgnhj6g287z-myapp-2.0";

function build(id: number, job: string, evals: number[], over: Partial<FakeBuild> = {}): FakeBuild {
  return { id, project: "p", jobset: "js", job, finished: true, buildstatus: 0, jobsetevals: evals, outputs: { out: `/nix/store/${"a".repeat(32)}-${job}` }, ...over };
}

async function get(server: HydraTestServer, p: string, headers: Record<string, string> = JSON_ACCEPT): Promise<Response> {
  return fetch(server.url + p, { headers, redirect: "manual" });
}

// Just the fields these tests read; the full shape is asserted with deepEqual where it matters.
const buildJson = z.object({ id: z.int(), job: z.string(), finished: z.int(), buildstatus: z.int().nullable(), stoptime: z.number().nullable(), drvpath: z.string(), buildoutputs: z.record(z.string(), z.object({ path: z.string().nullable() })) });
const evalJson = z.object({ id: z.int(), builds: z.array(z.int()) });

async function getParsed<T>(server: HydraTestServer, p: string, schema: z.ZodType<T>): Promise<T> {
  return schema.parse(await (await get(server, p)).json());
}

async function location(server: HydraTestServer, p: string): Promise<string | null> {
  const res = await get(server, p);
  assert.equal(res.status, 302, `${p} should redirect`);
  return res.headers.get("location");
}

/** A raw request: fetch would normalise "/nar/../x" before sending it. */
function rawGet(server: HydraTestServer, rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(server.url);
    http.get({ hostname, port, path: rawPath }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

describe("HydraTestServer", () => {
  let server: HydraTestServer;
  beforeEach(async () => { server = await HydraTestServer.start(); });
  afterEach(async () => { await server.close(); });

  it("latest ignores unfinished evals, latest-finished waits for the whole eval", async () => {
    server.addBuild(build(100, "gate", [10], { constituents: [101] }));
    server.addBuild(build(101, "app", [10]));
    server.addBuild(build(110, "gate", [11], { constituents: [111] }));
    server.addBuild(build(111, "app", [11], { finished: false, buildstatus: null }));
    assert.equal(await location(server, "/job/p/js/gate/latest"), `${server.url}/build/110`);
    assert.equal(await location(server, "/job/p/js/gate/latest-finished"), `${server.url}/build/100`);
    // A failed build still finishes the eval: latest-finished moves on.
    server.updateBuild(111, { finished: true, buildstatus: 1 });
    assert.equal(await location(server, "/job/p/js/gate/latest-finished"), `${server.url}/build/110`);
  });

  it("picks the highest green id, never a restarted build that kept its old status", async () => {
    server.addBuild(build(5, "app", [1]));
    server.addBuild(build(7, "app", [2], { buildstatus: 1 }));
    server.addBuild(build(9, "app", [3], { finished: false }));
    assert.equal(await location(server, "/job/p/js/app/latest"), `${server.url}/build/5`);
  });

  it("latest-for filters on system and passes extra segments through", async () => {
    server.addBuild(build(1, "app", [1], { system: "aarch64-linux" }));
    server.addBuild(build(2, "app", [1]));
    assert.equal(await location(server, "/job/p/js/app/latest-for/aarch64-linux"), `${server.url}/build/1`);
    assert.equal(await location(server, "/job/p/js/app/latest-for/aarch64-linux/constituents"), `${server.url}/build/1/constituents`);
    assert.equal(await location(server, "/job/p/js/app/latest-finished/constituents?x=1"), `${server.url}/build/2/constituents`);
  });

  it("builds Location from locationBase, as a badly configured proxy does", async () => {
    server.addBuild(build(3, "app", [1]));
    server.locationBase = "http://127.0.0.1:3000";
    assert.equal(await location(server, "/job/p/js/app/latest"), "http://127.0.0.1:3000/build/3");
  });

  it("answers 404 as JSON for JSON clients and as HTML otherwise", async () => {
    server.addBuild(build(1, "app", [1], { finished: false, buildstatus: null }));
    const asJson = await get(server, "/job/p/js/app/latest-finished");
    assert.equal(asJson.status, 404);
    assert.deepEqual(await asJson.json(), { error: "There is no successful build to redirect to." });
    const missingJob = await get(server, "/job/p/js/nope/latest");
    assert.deepEqual(await missingJob.json(), { error: "There is no successful build to redirect to." });
    const asHtml = await get(server, "/job/p/js/app/latest", {});
    assert.equal(asHtml.status, 404);
    assert.match(asHtml.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await asHtml.text(), /^<!DOCTYPE html>/);
    const noJobset = await get(server, "/job/p/other/app/latest");
    assert.equal(noJobset.status, 404);
    assert.deepEqual(await noJobset.json(), { error: "Jobset ‘other’ doesn't exist." });
  });

  it("restartBuild makes the eval incomplete so latest-finished moves back; finishBuild moves it on again", async () => {
    server.addBuild(build(100, "gate", [10], { constituents: [101] }));
    server.addBuild(build(101, "app", [10]));
    server.addBuild(build(200, "gate", [20], { constituents: [201] }));
    server.addBuild(build(201, "app", [20]));
    assert.equal(await location(server, "/job/p/js/gate/latest-finished"), `${server.url}/build/200`);
    const before = await getParsed(server, "/build/201", buildJson);
    server.restartBuild(201);
    assert.equal(await location(server, "/job/p/js/gate/latest-finished"), `${server.url}/build/100`);
    const restarted = await getParsed(server, "/build/201", buildJson);
    assert.deepEqual([restarted.finished, restarted.buildstatus, restarted.stoptime], [0, 0, before.stoptime], "finished 0, old status and times kept");
    server.finishBuild(201);
    assert.equal(await location(server, "/job/p/js/gate/latest-finished"), `${server.url}/build/200`);
    assert.equal((await getParsed(server, "/build/201", buildJson)).finished, 1);
  });

  it("a renamed jobset answers 301 to the new job and jobset URLs", async () => {
    server.addBuild(build(3, "app", [1]));
    server.renameJobset("p", "old", "js");
    const job = await get(server, "/job/p/old/app/latest-finished");
    assert.equal(job.status, 301);
    assert.equal(job.headers.get("location"), `${server.url}/job/p/js/app/latest-finished`);
    const jobset = await get(server, "/jobset/p/old");
    assert.deepEqual([jobset.status, jobset.headers.get("location")], [301, `${server.url}/jobset/p/js`]);
  });

  it("/jobset/P/JS: the jobset as JSON, or Hydra's 404 for a missing project or jobset", async () => {
    server.addBuild(build(3, "app", [1]));
    const ok = await get(server, "/jobset/p/js");
    assert.equal(ok.status, 200);
    assert.deepEqual(z.object({ name: z.string(), project: z.string() }).parse(await ok.json()), { name: "js", project: "p" });
    const noProject = await get(server, "/jobset/q/js");
    assert.deepEqual([noProject.status, await noProject.json()], [404, { error: "Project ‘q’ doesn't exist." }]);
    const noJobset = await get(server, "/jobset/p/other");
    assert.deepEqual([noJobset.status, await noJobset.json()], [404, { error: "Jobset ‘other’ doesn't exist." }]);
  });

  it("/api/latestbuilds: the newest finished builds, filtered, buildstatus only when finished", async () => {
    server.addBuild(build(1, "app", [1]));
    server.addBuild(build(2, "tests", [1], { buildstatus: 1 }));
    server.addBuild(build(3, "app", [2], { finished: false, buildstatus: null }));
    const all = z.array(z.object({ id: z.int(), job: z.string(), buildstatus: z.int() })).parse(await (await get(server, "/api/latestbuilds?nr=10&project=p&jobset=js")).json());
    assert.deepEqual(all.map((b) => [b.id, b.job, b.buildstatus]), [[2, "tests", 1], [1, "app", 0]]);
    const one = z.array(z.object({ id: z.int() })).parse(await (await get(server, "/api/latestbuilds?nr=1&project=p&jobset=js&job=app")).json());
    assert.deepEqual(one.map((b) => b.id), [1]);
    assert.equal((await get(server, "/api/latestbuilds?project=p")).status, 500, "nr is required");
  });

  it("addJobset: a jobset without builds exists (no successful build yet), as in Hydra", async () => {
    assert.deepEqual(await (await get(server, "/job/p/js/app/latest-finished")).json(), { error: "Jobset ‘js’ doesn't exist." });
    server.addJobset("p", "js");
    assert.deepEqual(await (await get(server, "/job/p/js/app/latest-finished")).json(), { error: "There is no successful build to redirect to." });
    assert.equal((await get(server, "/jobset/p/js")).status, 200);
  });

  it("withoutConstituentsRoute: an old Hydra's 404 Page not found. for /build/ID/constituents", async () => {
    server.addBuild(build(1, "gate", [1], { constituents: [] }));
    server.withoutConstituentsRoute = true;
    const res = await get(server, "/build/1/constituents");
    assert.deepEqual([res.status, await res.json()], [404, { error: "Page not found." }]);
  });

  it("renders /build/ID as Hydra does, HTML without a JSON Accept", async () => {
    server.addBuild(build(42, "app", [4, 5], { outputs: { out: APP1, doc: null } }));
    const body: unknown = await (await get(server, "/build/42")).json();
    const { drvpath } = buildJson.parse(body);
    assert.match(drvpath, /^\/nix\/store\/[0-9a-z]{32}-myapp-1\.0\.drv$/);
    assert.deepEqual(body, {
      id: 42, finished: 1, buildstatus: 0, timestamp: 1_700_000_042, starttime: 1_700_000_047, stoptime: 1_700_000_102,
      project: "p", jobset: "js", job: "app", system: "x86_64-linux", nixname: "myapp-1.0", releasename: null, priority: 100,
      drvpath, jobsetevals: [4, 5],
      buildoutputs: { out: { path: APP1 }, doc: { path: null } }, buildproducts: {}, buildmetrics: {},
    });
    assert.match(await (await get(server, "/build/42", {})).text(), /<html>/);
    server.addBuild(build(43, "app", [6], { finished: false, buildstatus: null }));
    const queued = await getParsed(server, "/build/43", buildJson);
    assert.deepEqual([queued.finished, queued.buildstatus, queued.stoptime], [0, null, null]);
  });

  it("reports a missing build as 404 and a non-numeric id as 500", async () => {
    const missing = await get(server, "/build/123");
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: "Build with ID 123 doesn't exist." });
    const invalid = await get(server, "/build/abc");
    assert.equal(invalid.status, 500);
    assert.deepEqual(await invalid.json(), { error: "Invalid build ID ‘abc’." });
  });

  it("lists constituents sorted by job, [] for a plain build", async () => {
    server.addBuild(build(100, "gate", [1], { constituents: [103, 101, 102] }));
    server.addBuild(build(101, "zeta", [1]));
    server.addBuild(build(102, "alpha", [1]));
    server.addBuild(build(103, "myapp", [1], { outputs: { out: APP2 } }));
    const jobs = await getParsed(server, "/build/100/constituents", z.array(buildJson));
    assert.deepEqual(jobs.map((b) => [b.job, b.id]), [["alpha", 102], ["myapp", 103], ["zeta", 101]]);
    assert.deepEqual(await (await get(server, "/build/101/constituents")).json(), []);
  });

  it("redirects latest-eval to the newest complete eval", async () => {
    server.addBuild(build(1, "app", [10]));
    server.addBuild(build(2, "app", [11], { finished: false, buildstatus: null }));
    assert.equal(await location(server, "/jobset/p/js/latest-eval"), `${server.url}/eval/10?name=js`);
    const evaluation = await getParsed(server, "/eval/10", evalJson);
    assert.deepEqual([evaluation.id, evaluation.builds], [10, [1]]);
  });

  it("serves overrides first, only as many times as asked", async () => {
    server.addBuild(build(1, "app", [1]));
    server.override("/build/1", { status: 200, body: "<html>login</html>" }, { times: 1 });
    server.override(/\/latest$/, () => ({ status: 500, body: "boom", delayMs: 20 }));
    const first = await get(server, "/build/1");
    assert.equal(await first.text(), "<html>login</html>");
    assert.match(first.headers.get("content-type") ?? "", /text\/html/);
    assert.equal((await get(server, "/build/1")).status, 200);
    assert.equal((await getParsed(server, "/build/1", buildJson)).id, 1);
    assert.equal((await get(server, "/job/p/js/app/latest")).status, 500);
    server.clearOverrides();
    assert.equal((await get(server, "/job/p/js/app/latest")).status, 302);
  });

  it("records every request, overridden or not", async () => {
    server.override("/build/9", { status: 200, body: "{}" });
    await get(server, "/build/9");
    await get(server, "/job/p/js/app/latest?x=1", { Accept: "text/html" });
    assert.deepEqual(server.requests.map((r) => [r.method, r.path]), [["GET", "/build/9"], ["GET", "/job/p/js/app/latest?x=1"]]);
    assert.equal(server.requests[0]?.headers["accept"], "application/json");
    server.resetRequests();
    assert.equal(server.requests.length, 0);
  });

  it("loads scenarios with placeholders and refuses a missing substitution", async () => {
    server.loadScenario("gate-green.json", { app1: APP1 });
    assert.equal(await location(server, "/job/myproject/main/release_gate/latest-finished"), `${server.url}/build/100`);
    const constituents = await getParsed(server, "/build/100/constituents", z.array(buildJson));
    assert.deepEqual(constituents.map((c) => c.job), ["myapp", "tests"]);
    assert.equal(constituents[0]?.buildoutputs["out"]?.path, APP1);
    assert.throws(() => server.loadScenario("gate-green.json"), /@app1@/);
  });

  it("serves a published file byte for byte until it is removed", async () => {
    const body = Buffer.from('{"hail-release": 1}\n', "utf8");
    server.publishFile("/releases/myapp.json", body);
    const res = await get(server, "/releases/myapp.json", {});
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
    server.publishFile("/releases/myapp.json", null);
    assert.equal((await get(server, "/releases/myapp.json", {})).status, 404);
  });

  it("parses every scenario file", () => {
    const subs = { app1: APP1, app2: APP2 };
    for (const file of ["gate-green.json", "gate-status6.json", "gate-none.json", "job-plain.json", "demo.json"]) {
      server.loadScenario(file, subs);
    }
  });
});

describe("HydraTestServer binary cache", () => {
  let dir: string;
  let server: HydraTestServer;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "hail-cache-test-"));
    await mkdir(path.join(dir, "nar"));
    await writeFile(path.join(dir, "nix-cache-info"), "StoreDir: /nix/store\n");
    await writeFile(path.join(dir, `${"b".repeat(32)}.narinfo`), "StorePath: x\n");
    await writeFile(path.join(dir, "nar", "abc.nar.xz"), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
    await writeFile(path.join(dir, "secret"), "root:x:0:0");
    server = await HydraTestServer.start({ cacheDir: dir });
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves cache files whatever the Accept header, bytes intact", async () => {
    assert.equal(await (await get(server, "/nix-cache-info")).text(), "StoreDir: /nix/store\n");
    assert.equal(await (await get(server, `/${"b".repeat(32)}.narinfo`, {})).text(), "StorePath: x\n");
    const nar = Buffer.from(await (await get(server, "/nar/abc.nar.xz")).arrayBuffer());
    assert.deepEqual([...nar], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
    assert.equal((await get(server, `/${"c".repeat(32)}.narinfo`)).status, 404);
  });

  it("refuses path traversal", async () => {
    const paths = ["/nar/../secret", "/nar/..%2fsecret", "/nar/%2e%2e/secret", "/../secret", "/nar/../../etc/passwd", "/%2e%2e/secret"];
    for (const p of paths) {
      const res = await rawGet(server, p);
      assert.equal(res.status, 404, p);
      assert.doesNotMatch(res.body, /root:/, p);
    }
    assert.deepEqual(server.requests.map((r) => r.path), paths, "sent as written, not normalised by the client");
  });
});

describe("HydraTestServer private mode", () => {
  const USER = "deployer";
  const PASSWORD = "correct horse";
  let dir: string;
  let server: HydraTestServer;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "hail-private-test-"));
    await writeFile(path.join(dir, "nix-cache-info"), "StoreDir: /nix/store\n");
    server = await HydraTestServer.start({ cacheDir: dir, private: { user: USER, password: PASSWORD } });
    server.addBuild(build(1, "app", [1]));
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  function login(body: unknown, headers: Record<string, string> = { Origin: server.url }): Promise<Response> {
    return fetch(`${server.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
      body: JSON.stringify(body),
    });
  }

  /** The hydra_session value of a successful login. */
  async function session(): Promise<string> {
    const res = await login({ username: USER, password: PASSWORD });
    assert.equal(res.status, 302);
    const cookie = /^hydra_session=([0-9a-f]+); path=\/;.*HttpOnly$/.exec(res.headers.getSetCookie()[1] ?? "");
    assert.ok(cookie?.[1], `Set-Cookie: ${res.headers.getSetCookie().join(" | ")}`);
    return cookie[1];
  }

  it("refuses every route without a session: 403 as JSON for JSON clients, HTML otherwise", async () => {
    for (const p of ["/build/1", "/job/p/js/app/latest", "/eval/1", "/nope"]) {
      const res = await get(server, p);
      assert.equal(res.status, 403, p);
      assert.deepEqual(await res.json(), { error: "This page requires you to sign in." }, p);
    }
    const html = await get(server, "/build/1", {});
    assert.equal(html.status, 403);
    assert.match(await html.text(), /This page requires you to sign in\./);
  });

  it("logs in with JSON and an Origin: a 302 with a hydra_session cookie that opens every route", async () => {
    const cookie = await session();
    assert.deepEqual(server.issuedSessions, [cookie]);
    const withCookie = { ...JSON_ACCEPT, Cookie: `other=1; hydra_session=${cookie}` };
    assert.equal((await get(server, "/job/p/js/app/latest", withCookie)).status, 302);
    assert.equal((buildJson.parse(await (await get(server, "/build/1", withCookie)).json())).id, 1);
    assert.equal((await get(server, "/build/1", { ...JSON_ACCEPT, Cookie: "hydra_session=forged" })).status, 403);
    const loginRequest = server.requests.find((q) => q.method === "POST");
    assert.deepEqual(JSON.parse(loginRequest?.body ?? "null"), { username: USER, password: PASSWORD }, "the body is recorded");
  });

  it("accepts a Referer under the base instead of an Origin; refuses other origins with Hydra's 500", async () => {
    const viaReferer = await login({ username: USER, password: PASSWORD }, { Referer: `${server.url}/` });
    assert.equal(viaReferer.status, 302);
    for (const headers of [{}, { Origin: "http://evil.example" }, { Referer: "http://127.0.0.1:1/" }]) {
      const res = await login({ username: USER, password: PASSWORD }, headers);
      assert.equal(res.status, 500, JSON.stringify(headers));
      assert.deepEqual(await res.json(), { error: `POST requests should come from ‘${server.url}/’.` });
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
    // Hydra's idea of its base is what counts, as behind a misconfigured proxy.
    server.locationBase = "http://127.0.0.1:3000";
    assert.equal((await login({ username: USER, password: PASSWORD })).status, 500);
  });

  it("answers bad credentials with 403 and missing ones with 400, and no cookie", async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ username: USER, password: "wrong" }, 403, "Bad username or password."],
      [{ username: "someone", password: PASSWORD }, 403, "Bad username or password."],
      [{ password: PASSWORD }, 400, "You must specify a user name."],
      [{ username: USER }, 400, "You must specify a password."],
    ];
    for (const [body, status, error] of cases) {
      const res = await login(body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.deepEqual(await res.json(), { error });
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
    assert.deepEqual(server.issuedSessions, []);
  });

  it("expireSessions() makes Hydra forget every session until the next login", async () => {
    const cookie = await session();
    const headers = { ...JSON_ACCEPT, Cookie: `hydra_session=${cookie}` };
    assert.equal((await get(server, "/build/1", headers)).status, 200);
    server.expireSessions();
    assert.equal((await get(server, "/build/1", headers)).status, 403);
    const fresh = await session();
    assert.notEqual(fresh, cookie);
    assert.equal((await get(server, "/build/1", { ...JSON_ACCEPT, Cookie: `hydra_session=${fresh}` })).status, 200);
  });

  it("leaves the binary cache public unless privateCache is set", async () => {
    assert.equal(await (await get(server, "/nix-cache-info", {})).text(), "StoreDir: /nix/store\n");
    const closed = await HydraTestServer.start({ cacheDir: dir, private: { user: USER, password: PASSWORD, privateCache: true } });
    try {
      const refused = await get(closed, "/nix-cache-info", {});
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /requires you to sign in/);
    } finally {
      await closed.close();
    }
  });
});
