// The built CLI against a Hydra that answers badly on purpose (test/support/hostile-server.ts in
// front of the Hydra test server). hail has deployed a good build first; then every hostile
// answer must end in its documented exit code with one clear `hail: …` line, switch nothing,
// start no nix command and leave the state's record of what is deployed as it was.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { HailDaemon } from "../support/cli.js";
import { renderBuild } from "../support/hydra-server.js";
import { answer, drip, HostileServer, hugeHeaders, oversized, redirect, type Behaviour, wrongLength } from "../support/hostile-server.js";
import { createWorld, greenGate, publishedApps, waitForExit, type World } from "./world.js";

const MiB = 1024 * 1024;
const HASH = "0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r";
const HTML = "<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>";
const HTML_TYPE = { "content-type": "text/html" };

describe("hail against a hostile Hydra", () => {
  let w: World;
  let hostile: HostileServer;
  let app: string;
  let gateId = 100;
  before(async () => {
    w = await createWorld();
    hostile = await HostileServer.start(w.hydra.url);
    [app] = (await publishedApps(w.lab, { name: "myapp", version: "1" })) as [string];
    for (const b of greenGate(gateId, gateId / 10, app)) w.hydra.addBuild(b);
    const r = await w.hail([...args(), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app);
  });
  after(async () => {
    await hostile.close();
    await w.close();
  });
  beforeEach(() => hostile.reset());

  /** A gate job on the hostile server, with a short --timeout so a hung request shows soon. */
  function args(timeout = "3s"): string[] {
    return ["--gate-job", `${hostile?.url ?? ""}/job/myproject/main/release_gate`, "--constituent", "myapp",
      "--profile", "myapp", ...w.labArgs(), "--timeout", timeout];
  }

  /** A newer green gate (constituent myapp at `appPath`), so there is something to deploy. */
  function newGate(appPath = app): number {
    gateId += 100;
    for (const b of greenGate(gateId, gateId / 10, appPath)) w.hydra.addBuild(b);
    return gateId;
  }

  interface Snapshot { target: string | null; nixCalls: number; deployed: unknown; failed: unknown }
  async function snapshot(): Promise<Snapshot> {
    const state = await w.readState("myapp");
    return { target: await w.profileTarget("myapp"), nixCalls: (await w.nixCalls()).length, deployed: state?.lastDeployed, failed: state?.failed };
  }

  /**
   * One error, said once in the log (a one-shot logs it as an ERROR, JSON here) and once in
   * the plain `hail: …` line that ends stderr, both matching `says`; nothing switched, no nix
   * command, state intact.
   */
  async function assertRefused(run: { code: number; stderr: string }, code: number, says: RegExp, before: Snapshot) {
    assert.equal(run.code, code, run.stderr);
    const plain = run.stderr.split("\n").filter((l) => l.startsWith("hail: "));
    const logged = run.stderr.split("\n").flatMap((l) => {
      if (!l.startsWith("{")) return [];
      const entry = JSON.parse(l) as { msg?: string; _meta?: { logLevelId?: number } };
      return (entry._meta?.logLevelId ?? 0) >= 5 ? [entry.msg ?? ""] : [];
    });
    assert.equal(plain.length, 1, `one hail: line, got:\n${run.stderr}`);
    assert.equal(run.stderr.trim().split("\n").at(-1), plain[0], "the hail: line ends stderr");
    assert.match(plain[0] ?? "", says);
    assert.ok(logged.length <= 1, `at most one logged error, got:\n${run.stderr}`);
    for (const line of logged) assert.match(line, says);
    assert.deepEqual(await snapshot(), before, "profile, nix calls and deployed state unchanged");
  }

  const httpCases: Array<[string, (id: number) => [string | RegExp, Behaviour], number, (id: number) => RegExp]> = [
    ["HTML with 200 where a build should be", (id) => [`/build/${id}`, answer(200, HTML, HTML_TYPE)], 65, (id) => new RegExp(`/build/${id}: got an HTML page`)],
    ["truncated JSON", (id) => [`/build/${id}/constituents`, answer(200, '[{"id": 1, "finished": 1, "buil')], 65, () => /not valid JSON, truncated\?/],
    ["a body over 32 MiB announced by Content-Length", (id) => [`/build/${id}/constituents`, oversized(40 * MiB, true)], 65, () => /Content-Length 41943040\) is larger than the 32 MiB/],
    ["a chunked body growing past 32 MiB", (id) => [`/build/${id}/constituents`, oversized(256 * MiB, false)], 65, () => /body is larger than the 32 MiB hail reads/],
    ["a body dripping one byte a second", (id) => [`/build/${id}`, drip()], 69, (id) => new RegExp(`/build/${id}: no complete answer within 3s`)],
    ["a Content-Length larger than the body, connection held open", (id) => [`/build/${id}`, wrongLength()], 69, (id) => new RegExp(`/build/${id}: no complete answer within 3s`)],
    ["a Content-Length larger than the body, then the connection closed", (id) => [`/build/${id}`, wrongLength(100_000, '{"id": 1', true)], 69, (id) => new RegExp(`/build/${id}: the connection broke while reading the answer`)],
    ["a redirect loop", () => [/\/(latest-finished|loop-a|loop-b)$/, loop()], 65, () => /more than 5 redirects/],
    ["401 with an HTML page", (id) => [`/build/${id}`, answer(401, HTML, HTML_TYPE)], 69, () => /HTTP 401: Hydra or a proxy in front of it wants a login/],
    ["403 with an HTML page", (id) => [`/build/${id}`, answer(403, HTML, HTML_TYPE)], 69, () => /HTTP 403: Hydra or a proxy in front of it wants a login/],
    ["502 with an HTML page", (id) => [`/build/${id}`, answer(502, HTML, HTML_TYPE)], 69, () => /HTTP 502 \(3 attempts\)/],
    ["64 KiB of headers", (id) => [`/build/${id}`, hugeHeaders(64 * 1024)], 69, () => /connection failed \(HPE_HEADER_OVERFLOW\)/],
    ["/build/ID answering with another id", (id) => [`/build/${id}`, answer(200, JSON.stringify({ ...renderBuild(gateBuild(id)), id: 555 }))], 65, (id) => new RegExp(`build 555 instead of build ${id}`)],
    ["a redirect to a build id beyond 2^53", () => [/latest-finished$/, redirect("/build/99999999999999999999")], 65, () => /beyond 2\^53/],
  ];
  for (const [what, make, code, says] of httpCases) {
    it(`${what}: exit ${code}`, async () => {
      const id = newGate();
      const [match, behaviour] = make(id);
      hostile.on(match, behaviour);
      const before = await snapshot();
      const r = await w.hail([...args(), "--oneshot"]);
      await assertRefused(r, code, says(id), before);
    });
  }

  it("an oversized body is not read to the end: the server sees the connection closed early", async () => {
    const id = newGate();
    hostile.on(`/build/${id}/constituents`, oversized(256 * MiB, false));
    const r = await w.hail([...args(), "--oneshot"]);
    assert.equal(r.code, 65, r.stderr);
    const [d] = hostile.deliveries;
    assert.ok(d?.closedEarly, "hail hung up before the end of the body");
    assert.ok(d.bytesSent < 64 * MiB, `the server got ${d.bytesSent} bytes of 256 MiB out`);
  });

  it("a dripping body under forced garbage collections still times out (69)", async () => {
    const id = newGate();
    hostile.on(`/build/${id}`, drip());
    const preload = path.join(w.lab.root, "gc-often.mjs");
    await writeFile(preload, "setInterval(() => globalThis.gc(), 20).unref();\n");
    const before = await snapshot();
    const d = HailDaemon.start([...args("2s"), "--oneshot"], w.env, ["--expose-gc", "--import", preload]);
    const code = await waitForExit(d, 60_000);
    await assertRefused({ code, stderr: d.stderr }, 69, new RegExp(`/build/${id}: no complete answer within 2s`), before);
  });

  it("a daemon facing a dripping body under forced collections keeps its period and answers SIGTERM", async () => {
    const id = newGate();
    hostile.on(`/build/${id}`, drip());
    const preload = path.join(w.lab.root, "gc-often.mjs");
    await writeFile(preload, "setInterval(() => globalThis.gc(), 20).unref();\n");
    const d = HailDaemon.start([...args("2s"), "--poll-period", "1s"], w.env, ["--expose-gc", "--import", preload]);
    try {
      const timeouts = () => d.stderr.split(`/build/${id}: no complete answer within 2s`).length - 1;
      await d.waitFor(() => timeouts() >= 3, "three timed-out passes in a row");
      assert.equal(await d.stop("SIGTERM"), 0, d.stderr);
      assert.match(d.stderr, /received SIGTERM/);
      assert.equal(await w.profileTarget("myapp"), app);
    } finally {
      if (d.alive) await d.stop("SIGKILL");
    }
  });

  it("a Location on another port: only its path is used, on the configured Hydra", async () => {
    const elsewhere = await HostileServer.start(w.hydra.url);
    try {
      const id = newGate();
      hostile.on(/latest-finished$/, redirect(`${elsewhere.url}/build/${id}`));
      const before = await snapshot();
      const r = await w.hail([...args(), "--oneshot"]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(elsewhere.requests, [], "nothing was asked of the other port");
      assert.ok(hostile.requests.includes(`/build/${id}/constituents`), hostile.requests.join(" "));
      assert.equal((await snapshot()).target, before.target);
    } finally {
      await elsewhere.close();
    }
  });

  const badPaths: Array<[string, string]> = [
    ["'..'", `/nix/store/${HASH}-myapp/../../etc`],
    ["a space", `/nix/store/${HASH}-my app`],
    ["';'", `/nix/store/${HASH}-myapp;reboot`],
    ["a newline", `/nix/store/${HASH}-myapp\n/nix/store/${HASH}-other`],
    ["a suffix", `/nix/store/${HASH}-myapp/bin/sh`],
    ["a name longer than Nix allows", `/nix/store/${HASH}-${"n".repeat(212)}`],
  ];
  for (const [what, bad] of badPaths) {
    it(`a store path with ${what} is refused (65) before any nix command`, async () => {
      newGate(bad);
      const before = await snapshot();
      const r = await w.hail([...args(), "--oneshot"]);
      await assertRefused(r, 65, /is not a plain store path under \/nix\/store/, before);
    });
  }
});

/** The gate build `id` as newGate() makes it (the app path does not matter to the gate). */
function gateBuild(id: number) {
  return greenGate(id, id / 10, `/nix/store/${HASH}-myapp`)[0] as Parameters<typeof renderBuild>[0];
}

/** latest-finished → loop-a → loop-b → loop-a … on the same server. */
function loop(): Behaviour {
  return (req, res) => {
    const next = req.url?.endsWith("/loop-a") === true ? "loop-b" : "loop-a";
    res.writeHead(302, { location: `/job/myproject/main/release_gate/${next}` });
    res.end();
  };
}
