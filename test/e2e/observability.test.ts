// Observability end to end (README, "Observability" and "Security"): the metrics file and listener, SIGUSR1, the
// log contract, operator-facing error messages and credentials that never leak. The built CLI,
// real Nix and the Hydra test server, as in the other e2e tests.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { link, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { execa } from "execa";
import { HailDaemon, readLines, type HailRun } from "../support/cli.js";
import type { FakeBuild } from "../support/hydra-server.js";
import { FAILING_ACTIVATION, createWorld, greenGate, publishedApps, worldAtGreenGate, type World } from "./world.js";

// ---- reading what hail wrote ----

interface Sample { name: string; labels: Record<string, string>; value: number }
interface Exposition { help: Map<string, string>; type: Map<string, string>; samples: Sample[] }

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;

/** A strict reader of the text format: any line it cannot read fails the test. */
function parseExposition(text: string): Exposition {
  assert.ok(text.endsWith("\n"), `the exposition ends with a newline: ${JSON.stringify(text.slice(-30))}`);
  const exp: Exposition = { help: new Map(), type: new Map(), samples: [] };
  for (const line of text.slice(0, -1).split("\n")) {
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      (comment[1] === "HELP" ? exp.help : exp.type).set(comment[2] ?? "", comment[3] ?? "");
      continue;
    }
    const m = SAMPLE_LINE.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const labelText = m[2] ?? "";
    const consumed = [...labelText.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"(,|$)/g)];
    assert.equal(consumed.map((c) => c[0]).join(""), labelText, `unreadable labels in ${JSON.stringify(line)}`);
    for (const c of consumed) labels[c[1] ?? ""] = (c[2] ?? "").replace(/\\(.)/g, (_, ch: string) => (ch === "n" ? "\n" : ch));
    exp.samples.push({ name: m[1] ?? "", labels, value: Number(m[3]) });
  }
  return exp;
}

function value(exp: Exposition, name: string, labels: Record<string, string>): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = exp.samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted);
  assert.equal(found.length, 1, `exactly one ${name}${JSON.stringify(labels)} in ${JSON.stringify(exp.samples.map((s) => [s.name, s.labels]))}`);
  return (found[0] as Sample).value;
}

/** `name{labels}` of every sample: what an exposition offers, whatever the values. */
function seriesKeys(exp: Exposition): string[] {
  return exp.samples.map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`).sort();
}

const ERROR_KINDS = ["usage", "invalid_response", "unavailable", "not_ready", "nix", "activation", "environment", "internal"];
/** README's Metrics table: every series, with its type and the extra labels of each sample. */
const README_SERIES: [name: string, type: string, extraLabels: Record<string, string>[]][] = [
  ["hail_up_to_date", "gauge", [{}]],
  ["hail_deployed_build_id", "gauge", [{}]],
  ["hail_last_check_timestamp_seconds", "gauge", [{}]],
  ["hail_last_success_timestamp_seconds", "gauge", [{}]],
  ["hail_deployments_total", "counter", [{ result: "success" }, { result: "failed" }]],
  ["hail_rollbacks_total", "counter", [{}]],
  ["hail_errors_total", "counter", ERROR_KINDS.map((kind) => ({ kind }))],
];

function assertSpecSeries(exp: Exposition, profile: string): void {
  for (const [name, type, extras] of README_SERIES) {
    assert.ok((exp.help.get(name) ?? "") !== "", `HELP for ${name}`);
    assert.equal(exp.type.get(name), type, `TYPE of ${name}`);
    for (const extra of extras) value(exp, name, { profile, ...extra });
  }
}

async function promtool(text: string): Promise<void> {
  const r = await execa("promtool", ["check", "metrics"], { input: text, reject: false, all: true });
  if (r.code === "ENOENT") assert.fail("promtool is not installed (Debian package prometheus); these tests need it");
  assert.equal(r.exitCode, 0, `promtool check metrics: ${r.all ?? ""}\n${text}`);
}

async function readExposition(file: string): Promise<Exposition> {
  const text = await readFile(file, "utf8");
  await promtool(text);
  return parseExposition(text);
}

type LogLine = Record<string, unknown>;

/**
 * stderr as JSON lines; a line that is not one JSON object fails the test, except the plain
 * `hail: …` line that ends a failed command (at every --log-format), which must be the last.
 */
function jsonLines(stderr: string): LogLine[] {
  const lines = stderr.split("\n").filter((l) => l !== "");
  if (lines.at(-1)?.startsWith("hail: ")) lines.pop();
  return lines.map((l) => {
    let parsed: unknown;
    assert.doesNotThrow(() => (parsed = JSON.parse(l)), `not JSON: ${l}`);
    assert.ok(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed), `not one JSON object: ${l}`);
    return parsed as LogLine;
  });
}

function levelOf(line: LogLine): string {
  const meta = line._meta;
  return typeof meta === "object" && meta !== null && "logLevelName" in meta ? String(meta.logLevelName) : "";
}

/** What an operator reads: JSON `msg` fields, plain lines (`hail: …`) and the stdout result line. */
function operatorText(r: HailRun): string {
  const fromStderr = r.stderr.split("\n").map((l) => {
    if (!l.startsWith("{")) return l;
    const parsed = JSON.parse(l) as LogLine;
    return String(parsed.msg ?? "");
  });
  return [...fromStderr, r.stdout].join("\n");
}

// ---- helpers for daemons and Hydra ----

const latestFinishedCount = (w: World) => w.hydra.requests.filter((q) => q.path.endsWith("/latest-finished")).length;

async function waitUntil(test: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The URL the daemon logged in its "hail started" line (it listens on port 0). */
async function metricsUrlOf(daemon: HailDaemon): Promise<string> {
  const started = () => daemon.logLines().find((l) => String(l.msg).startsWith("hail started"));
  await daemon.waitFor(() => started() !== undefined, "the hail started line");
  const url = started()?.metricsUrl;
  assert.equal(typeof url, "string", "hail started carries metricsUrl");
  assert.match(String(url), /^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
  return String(url);
}

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
}

function failingGate(id: number, evalId: number): FakeBuild {
  return { id, project: "myproject", jobset: "main", job: "release_gate", finished: true, buildstatus: 1, jobsetevals: [evalId], outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" } };
}

/** A valid store path that no cache has: realising it fails. */
const MISSING_PATH = "/nix/store/1bq3x6jz9mphgkfs8wrsbkvsy1iw4m58-myapp-9";

// ---- 1. --metrics-file over one-shot runs ----

describe("--metrics-file across one-shot runs", () => {
  let w: World;
  let good: string;
  let bad: string;
  let metricsDir: string;
  let metricsFile: string;
  let previousCopy: string;
  const oneshot = () => w.hail([...w.gateArgs("myapp"), "--oneshot", "--metrics-file", metricsFile]);

  before(async () => {
    w = await createWorld();
    [good, bad] = (await publishedApps(w.lab, { name: "myapp", version: "1" }, { name: "myapp", version: "2", activate: FAILING_ACTIVATION })) as [string, string];
    metricsDir = path.join(w.lab.root, "textfile-collector");
    metricsFile = path.join(metricsDir, "hail.prom");
    previousCopy = path.join(w.lab.root, "previous-metrics-inode");
  });
  after(() => w.close());

  /** Only the metrics file in its directory: no temp file left behind. */
  async function assertOnlyTheFile(): Promise<void> {
    assert.deepEqual(await readdir(metricsDir), ["hail.prom"]);
  }

  /** A hard link keeps the old inode alive, so a rename shows as a new inode and an old copy intact. */
  async function keepPrevious(): Promise<string> {
    await rm(previousCopy, { force: true });
    await link(metricsFile, previousCopy);
    return readFile(metricsFile, "utf8");
  }
  async function assertReplaced(previousText: string): Promise<void> {
    assert.notEqual((await stat(metricsFile)).ino, (await stat(previousCopy)).ino, "the file was replaced (rename), not rewritten in place");
    assert.equal(await readFile(previousCopy, "utf8"), previousText, "the old file was never written to");
  }

  let afterSuccess: Exposition;

  it("after a successful deploy: promtool-valid, every series, the constituent's build id, up to date", async () => {
    for (const b of greenGate(100, 10, good)) w.hydra.addBuild(b);
    const r = await oneshot();
    assert.equal(r.code, 0, r.stderr);
    const exp = await readExposition(metricsFile);
    assertSpecSeries(exp, "myapp");
    assert.ok(exp.samples.every((s) => s.labels.profile === "myapp"), "every sample is labelled with the profile as given");
    assert.equal(value(exp, "hail_up_to_date", { profile: "myapp" }), 1);
    assert.equal(value(exp, "hail_deployed_build_id", { profile: "myapp" }), 101, "the constituent's build id, not the gate's 100");
    assert.equal(value(exp, "hail_deployments_total", { profile: "myapp", result: "success" }), 1);
    assert.equal(value(exp, "hail_deployments_total", { profile: "myapp", result: "failed" }), 0);
    assert.equal(value(exp, "hail_rollbacks_total", { profile: "myapp" }), 0);
    for (const kind of ERROR_KINDS) assert.equal(value(exp, "hail_errors_total", { profile: "myapp", kind }), 0, kind);
    const nowSeconds = Date.now() / 1000;
    const lastCheck = value(exp, "hail_last_check_timestamp_seconds", { profile: "myapp" });
    const lastSuccess = value(exp, "hail_last_success_timestamp_seconds", { profile: "myapp" });
    assert.ok(lastCheck > 0 && lastCheck <= nowSeconds, `last check ${lastCheck}`);
    assert.ok(lastSuccess > 0 && lastSuccess <= nowSeconds, `last success ${lastSuccess}`);
    await assertOnlyTheFile();
    afterSuccess = exp;
  });

  it("a Hydra outage counts kind=unavailable; up_to_date and last success keep their values", async () => {
    const previous = await keepPrevious();
    w.hydra.override(/.*/, { status: 503, body: "Service Unavailable" });
    try {
      const r = await oneshot();
      assert.equal(r.code, 69, r.stderr);
    } finally {
      w.hydra.clearOverrides();
    }
    const exp = await readExposition(metricsFile);
    assertSpecSeries(exp, "myapp");
    assert.equal(value(exp, "hail_errors_total", { profile: "myapp", kind: "unavailable" }), 1);
    assert.equal(value(exp, "hail_up_to_date", { profile: "myapp" }), 1, "an outage says nothing about the profile");
    assert.equal(value(exp, "hail_deployments_total", { profile: "myapp", result: "success" }), 1);
    const check = (e: Exposition) => value(e, "hail_last_check_timestamp_seconds", { profile: "myapp" });
    const success = (e: Exposition) => value(e, "hail_last_success_timestamp_seconds", { profile: "myapp" });
    assert.ok(check(exp) > check(afterSuccess), "the failed pass is a check too");
    assert.equal(success(exp), success(afterSuccess), "but not a success");
    await assertOnlyTheFile();
    await assertReplaced(previous);
  });

  it("an HTML page for /build/ID counts kind=invalid_response; earlier counters stay", async () => {
    const previous = await keepPrevious();
    // A new gate build: hail would not ask for the build it deployed last (an idle pass is one request).
    for (const b of greenGate(150, 15, good)) w.hydra.addBuild(b);
    w.hydra.override("/build/150", { status: 200, body: "<!DOCTYPE html><html><body>Sign in</body></html>" });
    try {
      const r = await oneshot();
      assert.equal(r.code, 65, r.stderr);
    } finally {
      w.hydra.clearOverrides();
    }
    const exp = await readExposition(metricsFile);
    assert.equal(value(exp, "hail_errors_total", { profile: "myapp", kind: "invalid_response" }), 1);
    assert.equal(value(exp, "hail_errors_total", { profile: "myapp", kind: "unavailable" }), 1);
    assert.equal(value(exp, "hail_up_to_date", { profile: "myapp" }), 1);
    await assertOnlyTheFile();
    await assertReplaced(previous);
  });

  it("a failed activation with rollback: failed 1, rollbacks 1, kind=activation 1, not up to date; success stays", async () => {
    const previous = await keepPrevious();
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    const r = await oneshot();
    assert.equal(r.code, 1, r.stderr);
    assert.equal(await w.profileTarget("myapp"), good, "rolled back");
    const exp = await readExposition(metricsFile);
    assertSpecSeries(exp, "myapp");
    assert.equal(value(exp, "hail_deployments_total", { profile: "myapp", result: "failed" }), 1);
    assert.equal(value(exp, "hail_deployments_total", { profile: "myapp", result: "success" }), 1, "counters continue across one-shot runs");
    assert.equal(value(exp, "hail_rollbacks_total", { profile: "myapp" }), 1);
    assert.equal(value(exp, "hail_errors_total", { profile: "myapp", kind: "activation" }), 1);
    assert.equal(value(exp, "hail_errors_total", { profile: "myapp", kind: "unavailable" }), 1);
    assert.equal(value(exp, "hail_errors_total", { profile: "myapp", kind: "invalid_response" }), 1);
    assert.equal(value(exp, "hail_up_to_date", { profile: "myapp" }), 0);
    assert.equal(value(exp, "hail_deployed_build_id", { profile: "myapp" }), 101, "the profile is back at build 101");
    await assertOnlyTheFile();
    await assertReplaced(previous);
  });

  it("a second failed deployment in a later run increments failed again", async () => {
    const [worse] = await publishedApps(w.lab, { name: "myapp", version: "3", activate: FAILING_ACTIVATION });
    for (const b of greenGate(300, 30, worse as string)) w.hydra.addBuild(b);
    const r = await oneshot();
    assert.equal(r.code, 1, r.stderr);
    const exp = await readExposition(metricsFile);
    assert.equal(value(exp, "hail_deployments_total", { profile: "myapp", result: "failed" }), 2);
    assert.equal(value(exp, "hail_deployments_total", { profile: "myapp", result: "success" }), 1);
    assert.equal(value(exp, "hail_rollbacks_total", { profile: "myapp" }), 2);
    assert.equal(value(exp, "hail_errors_total", { profile: "myapp", kind: "activation" }), 2);
  });
});

describe("--metrics-file for the targets of a config file", () => {
  let w: World;
  before(async () => {
    w = await createWorld();
  });
  after(() => w.close());

  it("one file, each family once, every target under the profile label it was given", async () => {
    const [app] = (await publishedApps(w.lab, { name: "myapp", version: "1" })) as [string];
    for (const b of greenGate(100, 10, app)) w.hydra.addBuild(b);
    const absolute = path.join(w.lab.profilesDir, "worker");
    const metricsFile = path.join(w.lab.root, "multi", "hail.prom");
    const configFile = path.join(w.lab.root, "hail.json");
    await writeFile(configFile, JSON.stringify({
      profilesDir: w.lab.profilesDir,
      stateDir: w.stateDir,
      logFormat: "json",
      metricsFile,
      targets: [
        { profile: "web", gateJob: w.gateUrl, constituent: "myapp" },
        { profile: absolute, gateJob: w.gateUrl, constituent: "myapp" },
      ],
    }));
    const r = await w.hail(["--config", configFile, "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    const text = await readFile(metricsFile, "utf8");
    await promtool(text);
    const exp = parseExposition(text);
    for (const profile of ["web", absolute]) {
      assertSpecSeries(exp, profile);
      assert.equal(value(exp, "hail_deployed_build_id", { profile }), 101);
      assert.equal(value(exp, "hail_deployments_total", { profile, result: "success" }), 1);
      assert.equal(value(exp, "hail_up_to_date", { profile }), 1);
    }
    assert.deepEqual([...new Set(exp.samples.map((s) => s.labels.profile))].sort(), [absolute, "web"].sort());
    assert.equal(text.split("\n").filter((l) => l === "# TYPE hail_up_to_date gauge").length, 1);
  });
});

// ---- 2 and 3. the daemon: --metrics-listen, SIGUSR1, a file rewritten under a reader ----

describe("a daemon with --metrics-listen, and SIGUSR1", () => {
  let w: World;
  let app1: string;

  before(async () => {
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
  });
  // A test that fails must not leave its daemon holding the profile lock for the next ones.
  afterEach(() => w.stopDaemons());
  after(() => w.close());

  it("serves /metrics, /healthz and POST /poll; 405 and 404 for the rest", async () => {
    const metricsFile = path.join(w.lab.root, "listen", "hail.prom");
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h", "--poll-min-interval", "1ms", "--metrics-listen", "127.0.0.1:0", "--metrics-file", metricsFile]);
    const url = await metricsUrlOf(daemon);
    const scrape = async () => {
      const r = await get(`${url}/metrics`);
      assert.equal(r.status, 200);
      assert.match(r.type, /^text\/plain/);
      return r.body;
    };
    await daemon.waitFor(async () => parseExposition(await scrape()).samples.some((s) => s.name === "hail_deployments_total" && s.labels.result === "success" && s.value === 1), "the first deployment in /metrics");

    const text = await scrape();
    await promtool(text);
    const exp = parseExposition(text);
    assertSpecSeries(exp, "myapp");
    assert.equal(value(exp, "hail_up_to_date", { profile: "myapp" }), 1);
    assert.equal(value(exp, "hail_deployed_build_id", { profile: "myapp" }), 101);
    // /metrics shows the deployment before the pass ends and writes the file (and makes its directory).
    await waitUntil(async () => (await readdir(path.dirname(metricsFile)).catch((): string[] => [])).includes("hail.prom"), "the metrics file");
    assert.deepEqual(seriesKeys(parseExposition(await readFile(metricsFile, "utf8"))), seriesKeys(exp), "the file and /metrics offer the same series");

    const healthy = await get(`${url}/healthz`);
    assert.equal(healthy.status, 200, healthy.body);
    assert.match(healthy.type, /json/);
    assert.equal((JSON.parse(healthy.body) as { status: unknown }).status, "ok");

    // With a 1 h period only the poll request can cause another pass.
    const before = latestFinishedCount(w);
    const poll = await get(`${url}/poll`, { method: "POST" });
    assert.ok(poll.status >= 200 && poll.status < 300, `POST /poll answered ${poll.status}`);
    await waitUntil(() => latestFinishedCount(w) > before, "the pass POST /poll asked for");
    assert.equal(latestFinishedCount(w), before + 1, "one poll: one idle pass, one request");

    assert.equal((await get(`${url}/poll`)).status, 405, "GET /poll");
    assert.equal((await get(`${url}/nope`)).status, 404, "an unknown path");
    assert.equal(latestFinishedCount(w), before + 1, "GET /poll and unknown paths poll nothing");

    // An outage: /healthz says 503 and names the error kind; up_to_date keeps its value.
    w.hydra.override(/.*/, { status: 503, body: "Service Unavailable" });
    // No pass is pending now, so each request below starts one of its own: even one that comes
    // while the pass before is still finishing (a running pass may have asked Hydra before it).
    const pollAccepted = async (what: string) => {
      const r = await get(`${url}/poll`, { method: "POST" });
      assert.equal(r.status, 202, `${what}: ${r.body}`);
      assert.deepEqual(JSON.parse(r.body), { polling: true, coalesced: false }, `${what}: not absorbed`);
    };
    try {
      await pollAccepted("the poll into the outage");
      await waitUntil(async () => (await get(`${url}/healthz`)).status === 503, "/healthz to report the outage");
      const failing = await get(`${url}/healthz`);
      assert.match(failing.type, /json/);
      const body = JSON.parse(failing.body) as { status: unknown };
      assert.notEqual(body.status, "ok");
      assert.match(failing.body, /"unavailable"/, `the body names the error kind: ${failing.body}`);
      const during = parseExposition(await scrape());
      assert.equal(value(during, "hail_errors_total", { profile: "myapp", kind: "unavailable" }), 1);
      assert.equal(value(during, "hail_up_to_date", { profile: "myapp" }), 1);
    } finally {
      w.hydra.clearOverrides();
    }
    await pollAccepted("the poll after the outage");
    await waitUntil(async () => (await get(`${url}/healthz`)).status === 200, "/healthz to recover");
    assert.ok(daemon.alive);
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });

  it("SIGUSR1 polls now, and the daemon keeps running", async () => {
    const metricsFile = path.join(w.lab.root, "usr1", "hail.prom");
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h", "--poll-min-interval", "1ms", "--metrics-file", metricsFile]);
    // The file is written after each pass: once it exists, the first pass is over.
    await daemon.waitFor(async () => (await readdir(path.dirname(metricsFile)).catch((): string[] => [])).includes("hail.prom"), "the first pass");
    const pid = daemon.child.pid as number;
    for (const round of [1, 2]) {
      const before = latestFinishedCount(w);
      process.kill(pid, "SIGUSR1");
      await daemon.waitFor(() => latestFinishedCount(w) > before, `the pass SIGUSR1 #${round} asked for`);
      assert.equal(latestFinishedCount(w), before + 1);
      assert.ok(daemon.alive, "SIGUSR1 does not stop the daemon");
    }
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });

  it("the metrics file is replaced atomically: a reader never sees half of it, no temp file stays", async () => {
    const dir = path.join(w.lab.root, "atomic");
    const metricsFile = path.join(dir, "hail.prom");
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "200ms", "--metrics-file", metricsFile]);
    const seen = new Set<number>();
    let reads = 0;
    const deadline = Date.now() + 60_000;
    while (seen.size < 6) {
      if (!daemon.alive) assert.fail(`the daemon exited: ${daemon.stderr}`);
      if (Date.now() > deadline) assert.fail(`only ${seen.size} distinct writes seen; stderr:\n${daemon.stderr}`);
      let text: string;
      try {
        text = await readFile(metricsFile, "utf8");
      } catch {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      reads += 1;
      const exp = parseExposition(text);
      assertSpecSeries(exp, "myapp");
      seen.add(value(exp, "hail_last_check_timestamp_seconds", { profile: "myapp" }));
    }
    assert.equal(await daemon.stop("SIGTERM"), 0);
    assert.ok(reads >= seen.size);
    await promtool(await readFile(metricsFile, "utf8"));
    assert.deepEqual(await readdir(dir), ["hail.prom"]);
  });

  it("/healthz is 503 for the failed deployment, then 200 degraded while hail keeps skipping it (a one-shot exits 1 then)", async () => {
    const [bad] = (await publishedApps(w.lab, { name: "myapp", version: "2", activate: FAILING_ACTIVATION })) as [string];
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h", "--metrics-listen", "127.0.0.1:0"]);
    const url = await metricsUrlOf(daemon);
    const lastCheck = async () => value(parseExposition((await get(`${url}/metrics`)).body), "hail_last_check_timestamp_seconds", { profile: "myapp" });
    await waitUntil(async () => (await get(`${url}/healthz`)).status === 503, "/healthz to report the failed deployment");
    assert.match((await get(`${url}/healthz`)).body, /"activation"/);
    assert.equal(await w.profileTarget("myapp"), app1, "rolled back");

    // The next pass skips the known-bad build: nothing is fixed, the profile is still behind.
    const checkedAt = await lastCheck();
    const before = latestFinishedCount(w);
    await get(`${url}/poll`, { method: "POST" });
    await waitUntil(async () => latestFinishedCount(w) > before && (await lastCheck()) > checkedAt, "the pass that skips the failed build");
    const exp = parseExposition((await get(`${url}/metrics`)).body);
    assert.equal(value(exp, "hail_up_to_date", { profile: "myapp" }), 0);
    const health = await get(`${url}/healthz`);
    assert.equal(await daemon.stop("SIGTERM"), 0);
    // The same pass as a one-shot is a failure (exit 1: failed before and still skipped).
    const oneshot = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(oneshot.code, 1, oneshot.stderr);
    // the daemon works as designed: the good build is kept (test/e2e/health-why.test.ts has the details)
    assert.equal(health.status, 200, `after the skip pass /healthz says ${health.status} ${health.body}`);
    assert.equal((JSON.parse(health.body) as { status: unknown }).status, "degraded");
  });
});

// ---- 4. logs ----

describe("the log contract", () => {
  let w: World;
  let app1: string;
  let app2: string;
  let app3: string;
  let bad: string;

  before(async () => {
    w = await createWorld();
    [app1, app2, app3, bad] = (await publishedApps(
      w.lab,
      { name: "myapp", version: "1" },
      { name: "myapp", version: "2" },
      { name: "myapp", version: "3" },
      { name: "myapp", version: "4", activate: FAILING_ACTIVATION },
    )) as [string, string, string, string];
  });
  after(() => w.close());

  it("--log-format json: one object per stderr line with msg and profile; stdout only the result", async () => {
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--log-level", "debug"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stderr);
    assert.ok(lines.length >= 4, r.stderr);
    for (const l of lines) {
      assert.equal(typeof l.msg, "string", JSON.stringify(l));
      assert.equal(l.profile, "myapp", JSON.stringify(l));
    }
    const deploying = lines.find((l) => String(l.msg).startsWith("deploying build 101"));
    const deployed = lines.find((l) => String(l.msg).startsWith("deployed build 101"));
    for (const l of [deploying, deployed]) {
      assert.ok(l, r.stderr);
      assert.equal(l.buildId, 101);
      assert.equal(l.gateBuildId, 100);
      assert.equal(l.storePath, app1);
    }
    const activation = lines.filter((l) => l.source === "activation");
    assert.deepEqual(activation.map((l) => l.msg), [`activated ${app1} build=101`], "activation output, line by line, marked as such");
    assert.deepEqual(r.stdout.split("\n").filter((l) => l !== ""), [`deployed build 101 ${app1} to myapp`], "stdout holds the result line and nothing else");
  });

  it("every line of a deployment carries buildId, gateBuildId and storePath (activation output too)", async () => {
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stderr);
    const first = lines.findIndex((l) => String(l.msg).startsWith("deploying build 201"));
    const last = lines.findIndex((l) => String(l.msg).startsWith("deployed build 201"));
    assert.ok(first >= 0 && last > first, r.stderr);
    const deployment = lines.slice(first, last + 1);
    assert.ok(deployment.some((l) => l.source === "activation"), "the activation's output is among them");
    const missing = deployment.filter((l) => l.buildId !== 201 || l.gateBuildId !== 200 || l.storePath !== app2);
    assert.deepEqual(missing.map((l) => l.msg), [], "lines of the deployment without buildId/gateBuildId/storePath");
  });

  it("--log-level warn keeps warnings and errors of a failed deployment, and no info line", async () => {
    for (const b of greenGate(300, 30, bad)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--log-level", "warn"]);
    assert.equal(r.code, 1, r.stderr);
    const lines = jsonLines(r.stderr);
    const levels = new Set(lines.map(levelOf));
    assert.ok(levels.has("WARN"), `the rollback warning is kept: ${r.stderr}`);
    assert.ok(levels.has("ERROR"), `the failure is kept: ${r.stderr}`);
    assert.deepEqual([...levels].filter((l) => l !== "WARN" && l !== "ERROR"), [], r.stderr);
    assert.ok(!r.stderr.includes("activation of"), "activation output (info) is suppressed");
    assert.ok(!lines.some((l) => String(l.msg).startsWith("deploying build")), "info lines are suppressed");
    assert.equal(r.stdout.split("\n").filter((l) => l !== "").length, 1, r.stdout);
    assert.match(r.stdout, /^failed to deploy build 301 /);
  });

  it("--log-format pretty on a pipe: readable lines, no ANSI colour escapes", async () => {
    for (const b of greenGate(400, 40, app3)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--log-level", "debug", "--log-format", "pretty"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes("\u001b"), `no escape sequences: ${JSON.stringify(r.stderr)}`);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.ok(lines.length >= 4);
    assert.ok(lines.every((l) => !l.startsWith("{")), "not JSON");
    assert.ok(lines.some((l) => l.includes("deploying build 401")), r.stderr);
    assert.ok(lines.some((l) => l.includes(`activated ${app3} build=401`)), r.stderr);
    assert.deepEqual(r.stdout.split("\n").filter((l) => l !== ""), [`deployed build 401 ${app3} to myapp`]);
  });

  it("without --log-format, stderr that is not a TTY gets JSON", async () => {
    const args = w.gateArgs("myapp").filter((a, i, all) => a !== "--log-format" && all[i - 1] !== "--log-format");
    assert.ok(!args.includes("json"));
    const r = await w.hail([...args, "--oneshot", "--log-level", "debug"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stderr);
    assert.ok(lines.some((l) => l.msg === "profile is up to date"), r.stderr);
  });
});

// ---- 5. errors an operator can act on ----

describe("error messages name the URL, file or profile, and what to do", () => {
  let w: World;
  beforeEach(async () => {
    w = await createWorld();
  });
  afterEach(() => w.close());

  const usage: [title: string, flags: (w: World) => string[], mustName: (w: World) => string[]][] = [
    ["--poll-period 5x", () => ["--poll-period", "5x"], () => ["--poll-period", "5x", "e.g. 30s"]],
    ["--log-level loud", () => ["--log-level", "loud"], () => ["--log-level", "loud", "debug, info, warn or error"]],
    ["--metrics-listen localhost", () => ["--metrics-listen", "localhost"], () => ["--metrics-listen", "localhost", "HOST:PORT"]],
    ["--netrc-file MISSING", (w) => ["--netrc-file", path.join(w.lab.root, "no-such-netrc")], (w) => [path.join(w.lab.root, "no-such-netrc"), "--netrc-file", "fix the path"]],
  ];
  for (const [title, flags, mustName] of usage) {
    it(`usage: ${title} exits 64, names the flag and the fix`, async () => {
      const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", ...flags(w)]);
      assert.equal(r.code, 64, r.stderr);
      const text = operatorText(r);
      for (const part of mustName(w)) assert.ok(text.includes(part), `names ${JSON.stringify(part)}: ${text}`);
      assert.deepEqual(await w.nixCalls(), []);
    });
  }

  it("invalid_response: 65, names the URL and says to look at it", async () => {
    for (const b of greenGate(100, 10, MISSING_PATH)) w.hydra.addBuild(b);
    w.hydra.override("/build/100", { status: 200, body: "<!DOCTYPE html><html><body>Sign in</body></html>" });
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 65, r.stderr);
    const text = operatorText(r);
    assert.ok(text.includes(`${w.hydra.url}/build/100`), text);
    assert.match(text, /HTML/);
    assert.match(text, /open the URL in a browser/);
    assert.ok(jsonLines(r.stderr).some((l) => l.errorKind === "invalid_response" && l.profile === "myapp"), r.stderr);
  });

  it("unavailable: 69, names the URL and the HTTP status", async () => {
    w.hydra.override(/.*/, { status: 503, body: "Service Unavailable" });
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 69, r.stderr);
    const text = operatorText(r);
    assert.ok(text.includes(`${w.gateUrl}/latest-finished`), text);
    assert.match(text, /HTTP 503/);
    assert.match(text, /tries again|check that Hydra/);
    assert.ok(jsonLines(r.stderr).some((l) => l.errorKind === "unavailable" && l.profile === "myapp"), r.stderr);
  });

  it("not_ready: 75, names the URL and Hydra's own message", async () => {
    w.hydra.addBuild(failingGate(50, 5));
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 75, r.stderr);
    const text = operatorText(r);
    assert.ok(text.includes(`${w.gateUrl}/latest-finished`), text);
    assert.ok(text.includes("There is no successful build to redirect to."), text);
    assert.match(text, /tries again/);
  });

  it("locked: 75, names the pid holding the lock and the lock file", async () => {
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h"]);
    await daemon.waitFor(/hail started/, "the daemon to take the lock");
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 75, r.stderr);
    const text = operatorText(r);
    assert.ok(text.includes(`pid ${daemon.child.pid}`), text);
    assert.ok(text.includes(w.stateFile("myapp").replace(/\.json$/, ".lock")), text);
    assert.ok(text.includes("myapp"), text);
    assert.match(text, /stop the other one/);
    assert.ok(daemon.alive, "the daemon holding the lock is unaffected");
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });

  it("nix: 1, names the failing command and the profile", async () => {
    for (const b of greenGate(100, 10, MISSING_PATH)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 1, r.stderr);
    const text = operatorText(r);
    assert.ok(text.includes(`nix-store --realise ${MISSING_PATH}`), text);
    assert.ok(r.stdout.includes("to myapp"), r.stdout);
    assert.ok(jsonLines(r.stderr).some((l) => l.errorKind === "nix" && l.profile === "myapp"), r.stderr);
  });

  it("activation: 1, names the activation and its exit code", async () => {
    const [app] = await publishedApps(w.lab, { name: "myapp", version: "1", activate: FAILING_ACTIVATION });
    for (const b of greenGate(100, 10, app as string)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 1, r.stderr);
    const text = operatorText(r);
    assert.ok(text.includes(`${w.lab.profilesDir}/myapp/bin/activate`), text);
    assert.match(text, /exit 3/);
    assert.ok(r.stdout.includes("to myapp"), r.stdout);
    assert.ok(jsonLines(r.stderr).some((l) => l.errorKind === "activation" && l.profile === "myapp"), r.stderr);
  });
});

// ---- 6. secrets stay secret ----

describe("netrc credentials never leak", () => {
  let w: World;
  let password: string;
  let netrc: string;
  let argvLog: string;
  let envLog: string;

  before(async () => {
    w = await createWorld();
    password = `pw-${randomBytes(18).toString("hex")}`;
    netrc = path.join(w.lab.root, "netrc");
    await writeFile(netrc, `machine 127.0.0.1 login deployer password ${password}\n`, { mode: 0o600 });
    argvLog = path.join(w.lab.root, "activation-argv.log");
    envLog = path.join(w.lab.root, "activation-env.log");
  });
  afterEach(() => w.stopDaemons());
  after(() => w.close());

  it("is sent to Hydra as Basic auth, and found in no output, file, argv or environment", async () => {
    const recordArgv = `echo "$0 $*" >> '${argvLog}'\nenv >> '${envLog}'\necho "activated $out build=\${HAIL_BUILD_ID:-}"`;
    const [app1, app2] = (await publishedApps(w.lab, { name: "myapp", version: "1", activate: recordArgv }, { name: "myapp", version: "2", activate: recordArgv })) as [string, string];
    const metricsFile = path.join(w.lab.root, "metrics", "hail.prom");
    const planArgs = (format: string) => [...w.gateArgs("myapp"), "--netrc-file", netrc, "--log-level", "debug", "--log-format", format];
    const secretArgs = (format: string) => [...planArgs(format), "--metrics-file", metricsFile];
    const outputs: string[] = [];
    const keep = (r: HailRun) => outputs.push(r.stdout, r.stderr);

    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const deployed = await w.hail([...secretArgs("json"), "--oneshot"]);
    keep(deployed);
    assert.equal(deployed.code, 0, deployed.stderr);
    const idle = await w.hail([...secretArgs("pretty"), "--oneshot"]);
    keep(idle);
    assert.equal(idle.code, 0, idle.stderr);

    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    for (const format of ["json", "pretty"]) {
      const plan = await w.hail(["plan", ...planArgs(format), "--json"]);
      keep(plan);
      assert.equal(plan.code, 0, plan.stderr);
      assert.equal((JSON.parse(plan.stdout) as { buildId: number }).buildId, 201);
    }

    // A daemon pass that deploys, with the listener: its answers are output too.
    const daemon = w.startDaemon([...secretArgs("json"), "--poll-period", "1h", "--metrics-listen", "127.0.0.1:0"]);
    const url = await metricsUrlOf(daemon);
    await daemon.waitFor(async () => (await w.profileTarget("myapp")) === app2 && /result="success"} 2/.test((await get(`${url}/metrics`)).body), "the daemon's deployment");
    outputs.push((await get(`${url}/metrics`)).body, (await get(`${url}/healthz`)).body);
    assert.equal(await daemon.stop("SIGTERM"), 0);
    outputs.push(daemon.stderr);

    const pretty = w.startDaemon([...secretArgs("pretty"), "--poll-period", "1h"]);
    await pretty.waitFor(/profile is up to date/, "the pretty daemon's pass");
    assert.equal(await pretty.stop("SIGTERM"), 0);
    outputs.push(pretty.stderr);

    // A proxy that refuses the login: the error path must not echo what was sent.
    w.hydra.override(/latest-finished/, { status: 401, body: "Unauthorized" }, { times: 1 });
    const refused = await w.hail([...secretArgs("json"), "--oneshot"]);
    keep(refused);
    assert.equal(refused.code, 69, refused.stderr);

    // Hydra got the credentials on every request hail made.
    const expected = `Basic ${Buffer.from(`deployer:${password}`).toString("base64")}`;
    const hydraRequests = w.hydra.requests.filter((q) => q.path.startsWith("/job/") || q.path.startsWith("/build/"));
    assert.ok(hydraRequests.length >= 8, `hail's requests: ${hydraRequests.length}`);
    for (const q of hydraRequests) assert.equal(q.headers.authorization, expected, `${q.method} ${q.path}`);

    // And nowhere else.
    const files = [
      ...(await filesUnder(w.stateDir)),
      metricsFile,
      argvLog,
      envLog,
    ];
    const activationArgv = await readLines(argvLog);
    assert.ok(activationArgv.length >= 3 && activationArgv.every((l) => l.includes("/bin/activate")), `the activations recorded their argv: ${activationArgv.join("\n")}`);
    assert.ok((await readFile(envLog, "utf8")).includes("HAIL_PROFILE="), "the activations recorded their environment");
    const places: [string, string][] = [
      ...outputs.map((o, i): [string, string] => [`output #${i}`, o]),
      ["the nix spy's argv log", (await w.nixCalls()).join("\n")],
      ...(await Promise.all(files.map(async (f): Promise<[string, string]> => [f, await readFile(f, "utf8")]))),
    ];
    assert.ok((await w.nixCalls()).length >= 4, "nix commands ran");
    const needles = [password, Buffer.from(`deployer:${password}`).toString("base64"), Buffer.from(password).toString("base64")];
    for (const [where, text] of places) {
      for (const needle of needles) assert.ok(!text.includes(needle), `the secret (${needle === password ? "plain" : "base64"}) appears in ${where}`);
    }
  });
});

async function filesUnder(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : Promise.resolve([path.join(dir, e.name)]))));
  return nested.flat();
}
