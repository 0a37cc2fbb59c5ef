// Service profiles deployed by hail into a REAL systemd (issue 28 point 6): one container booted
// with systemd-nspawn for the whole file, the built hail run INSIDE it (nsenter), so each
// profile's bin/activate talks to that systemd as on a host. The Hydra test server and the
// file:// binary cache are the host's (shared network namespace, the lab dir bound at its path).
// The profiles are built by mkServiceProfile (test/support/service-profile.nix, the stand-in
// pkgs) with real Nix. The tests run in order, as one host's releases follow each other.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { HAIL_BIN } from "../support/cli.js";
import { freePort } from "../support/free-port.js";
import { fetchText, startLoad, type LoadSummary } from "../support/http-load.js";
import type { FakeBuild } from "../support/hydra-server.js";
import { bootSystemdContainer, CONTAINER_PATH, MASKED_UNITS, type ExecResult, type SystemdContainer } from "../support/systemd-container.js";
import { createWorld, descendantsOf, waitUntil, type World } from "./world.js";
import { QUOTING_ARGS, QUOTING_ENV, quotingService, type QuotingReport } from "./services-quoting.js";

const DAEMON_SOCKET = "/nix/var/nix/daemon-socket/socket";
const PROFILE_EXPRESSION = fileURLToPath(new URL("../support/service-profile.nix", import.meta.url));
/** the profiles' namespace: every unit is web-<service>.… */
const NS = "web";
const UNIT_DIR = "/run/systemd/system";
const unit = (svc: string) => `${NS}-${svc}.service`;

describe("hail deploys service profiles into a real systemd (systemd-nspawn)", () => {
  let w: World;
  let box: SystemdContainer | undefined;
  let hailDir: string;
  let socketBefore: boolean;
  let smokeApp: string;
  let gateId = 100;
  const port = { a: 0, b: 0, smoke: 0, listen: 0, blue: 0, green: 0, aBlue: 0, aGreen: 0 };
  const profiles: Record<string, string> = {};

  before(async () => {
    socketBefore = existsSync(DAEMON_SOCKET);
    w = await createWorld();
    for (const k of Object.keys(port) as (keyof typeof port)[]) port[k] = await freePort();
    // node and the bundle where the container sees them: the checkout may not be bound in
    hailDir = path.join(w.lab.root, "hail-bin");
    await mkdir(hailDir);
    await copyFile(process.execPath, path.join(hailDir, "node"));
    await chmod(path.join(hailDir, "node"), 0o755);
    await copyFile(HAIL_BIN, path.join(hailDir, "hail.mjs"));
    box = await bootSystemdContainer({ binds: [w.lab.root] });
  });
  after(async () => {
    await box?.poweroff();
    await w.close();
  });

  const container = () => {
    if (box === undefined) throw new Error("the container did not boot");
    return box;
  };

  const hailEnv = (extraEnv: NodeJS.ProcessEnv = {}) => {
    const { NODE_TEST_CONTEXT: _ignored, ...env } = w.env;
    return { ...env, PATH: CONTAINER_PATH, ...extraEnv };
  };
  const hailArgv = (args: string[]) => [path.join(hailDir, "node"), path.join(hailDir, "hail.mjs"), ...args];
  /** The built hail, run inside the container with the lab's Nix environment. */
  const hailInside = (args: string[]): Promise<ExecResult> => container().exec(hailArgv(args), { env: hailEnv(), timeoutMs: 300_000 });
  const deploy = (profile = "myapp", constituent = profile) => hailInside([...w.gateArgs(profile, constituent), "--oneshot"]);

  /** A green gate build whose constituents are the smoke app and `myapp`, published to the cache. */
  async function release(myapp: string | null, fresh = true): Promise<number> {
    // only a new path: the ones deployed before are alive (profiles), and already in the cache
    if (fresh) {
      await w.lab.publish(myapp ?? smokeApp);
      await w.lab.deleteLocal(myapp ?? smokeApp);
    }
    gateId += 100;
    const base = { project: "myproject", jobset: "main", finished: true, buildstatus: 0, jobsetevals: [gateId / 10] };
    const jobs = { smoke: smokeApp, ...(myapp === null ? {} : { myapp }) };
    const builds: FakeBuild[] = [
      { ...base, id: gateId, job: "release_gate", outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: Object.keys(jobs).map((_, i) => gateId + 1 + i), stoptime: 1_700_000_000 + gateId },
      ...Object.entries(jobs).map(([job, out], i): FakeBuild => ({ ...base, id: gateId + 1 + i, job, outputs: { out } })),
    ];
    for (const b of builds) w.hydra.addBuild(b);
    return gateId;
  }

  /** A profile `web` built with mkServiceProfile and the stand-in pkgs. */
  async function buildProfile(version: string, services: Record<string, unknown>): Promise<string> {
    const storePath = await w.lab.buildExpression(PROFILE_EXPRESSION, { spec: JSON.stringify({ name: NS, version, services }) });
    profiles[version] = storePath;
    return storePath;
  }

  /** The tiny app on its own port, with an HTTP health check. */
  const app = (version: string, p: number, healthy = true) => ({
    app: { version, healthy },
    environment: { PORT: String(p) },
    health: { http: `http://127.0.0.1:${p}/health`, timeoutSec: 15 },
  });
  const blueGreen = (version: string, healthy = true) => ({
    app: { version, healthy },
    blueGreen: { listen: port.listen, slots: [port.blue, port.green], drainSec: 1 },
    health: { http: "http://127.0.0.1:{port}/health", timeoutSec: 15 },
  });

  const show = async (u: string, property: string) => (await container().systemctl("show", "-p", property, "--value", u)).stdout.trim();
  const mainPid = (svc: string) => show(unit(svc), "MainPID");
  const isActive = async (u: string) => (await container().systemctl("is-active", u)).stdout.trim();

  /** Every file and link of the namespace in the unit dir (.wants links included): path → link target and content. */
  async function unitSnapshot(): Promise<string> {
    const script = `cd ${UNIT_DIR} && find . -name '${NS}-*' | LC_ALL=C sort | while read -r f; do printf '== %s -> %s\\n' "$f" "$(readlink "$f")"; if [ -e "$f" ]; then cat "$f"; else echo "(dangling)"; fi; done`;
    const r = await container().exec(["sh", "-c", script]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  }
  /** Units of the namespace systemd knows, loaded or not. */
  async function knownUnits(): Promise<string[]> {
    const r = await container().systemctl("list-units", "--all", "--no-legend", "--plain", `${NS}-*`);
    return r.stdout.split("\n").filter(Boolean).map((l) => l.trim().split(/\s+/)[0] ?? "");
  }

  const answers = (p: number) => fetchText(`http://127.0.0.1:${p}/`);

  /** The activation's output lines hail logged (JSON log lines with source "activation"). */
  const activationLines = (stderr: string) =>
    stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.source === "activation")
      .map((l) => String(l.msg));

  it("boots a systemd that starts none of the host's port-taking services nor a nix-daemon socket", async () => {
    const state = await container().systemctl("is-system-running");
    assert.match(state.stdout.trim(), /^(running|degraded)$/);
    const loaded = await container().systemctl("list-units", "--all", "--no-legend", "--plain", ...MASKED_UNITS);
    for (const line of loaded.stdout.split("\n").filter(Boolean)) {
      assert.doesNotMatch(line, /\sactive\s/, `a masked host unit is active in the container: ${line}`);
    }
    assert.equal(existsSync(DAEMON_SOCKET), socketBefore, `${DAEMON_SOCKET} appeared in the shared /nix`);
  });

  it("smoke: hail inside realises a plain profile from the host's cache; its activate starts a unit that serves on 127.0.0.1", async () => {
    const activate = [
      `cat > ${UNIT_DIR}/hail-smoke.service <<EOF`,
      "[Service]",
      `ExecStart=/usr/bin/python3 -m http.server ${port.smoke} --bind 127.0.0.1 --directory $out`,
      "EOF",
      "systemctl daemon-reload",
      "systemctl restart hail-smoke.service",
    ].join("\n");
    smokeApp = await w.lab.buildApp("smoke", "1", { activate });
    await release(null);
    const r = await deploy("smoke");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("smoke"), smokeApp);
    assert.equal(await isActive("hail-smoke.service"), "active");
    await waitUntil(async () => (await fetchText(`http://127.0.0.1:${port.smoke}/version`)) === "1", "the smoke unit to serve its version");
  });

  it("v1: services a and b installed, started, healthy", async () => {
    await release(await buildProfile("1", { a: app("v1", port.a), b: app("v1", port.b) }));
    const r = await deploy();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), profiles["1"]);
    for (const svc of ["a", "b"]) assert.equal(await isActive(unit(svc)), "active", svc);
    assert.equal(await answers(port.a), "v1");
    assert.equal(await answers(port.b), "v1");
    assert.ok((await unitSnapshot()).includes(`multi-user.target.wants/${unit("a")}`), "a is wanted by multi-user.target");
  });

  it("v2: a changed is restarted (new main PID, answers v2); b unchanged keeps its main PID", async () => {
    const before = { a: await mainPid("a"), b: await mainPid("b") };
    await release(await buildProfile("2", { a: app("v2", port.a), b: app("v1", port.b) }));
    const r = await deploy();
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(await mainPid("a"), before.a, "a was restarted");
    assert.equal(await answers(port.a), "v2");
    assert.equal(await mainPid("b"), before.b, "b was not touched");
    assert.equal(await answers(port.b), "v1");
  });

  let v3Units = "";
  it("v3: b removed is stopped, its unit file and .wants link gone, systemd no longer knows it", async () => {
    const bPid = await mainPid("b");
    await release(await buildProfile("3", { a: app("v2", port.a) }));
    const r = await deploy();
    assert.equal(r.code, 0, r.stderr);
    v3Units = await unitSnapshot();
    assert.doesNotMatch(v3Units, new RegExp(unit("b").replace(".", "\\.")), "no file or link of b is left");
    const status = await container().systemctl("status", unit("b"));
    assert.equal(status.code, 4, `systemctl status ${unit("b")}: ${status.stdout}${status.stderr}`);
    assert.match(status.stderr, /could not be found/);
    assert.ok(!existsSync(`/proc/${bPid}`), `b's process ${bPid} is gone`);
    assert.equal(await answers(port.b), null, "nothing answers on b's port");
    assert.equal(await isActive(unit("a")), "active");
  });

  it("v4: a release whose a never gets healthy fails, hail rolls back, v3's units are active again byte for byte, the build is known-bad", async () => {
    const broken = await buildProfile("4", { a: app("v3", port.a, false) });
    const buildId = (await release(broken)) + 2;
    const r = await deploy();
    assert.equal(r.code, 1, r.stderr);
    const first = activationLines(r.stderr).find((l) => l.startsWith("hail-services: "));
    assert.match(first ?? "", new RegExp(`^hail-services: ${unit("a").replace(".", "\\.")}: \\S`), `the failure line names the unit:\n${r.stderr}`);
    assert.equal(await w.profileTarget("myapp"), profiles["3"], "the profile is back at v3");
    assert.equal(await unitSnapshot(), v3Units, "v3's unit files and links, byte for byte");
    assert.equal(await isActive(unit("a")), "active");
    await waitUntil(async () => (await answers(port.a)) === "v2", "a to answer v2 again");
    const state = await w.readState("myapp");
    assert.deepEqual(state?.failed.map((f) => [f.storePath, f.buildId]), [[broken, buildId]], "the broken build is known-bad");
  });

  it("v5: a blue-green service and a service whose args and environment need quoting come up; a is untouched", async () => {
    const aPid = await mainPid("a");
    const report = path.join(w.lab.root, "quoting.json");
    await release(await buildProfile("5", { a: app("v2", port.a), g: blueGreen("v1"), q: quotingService(report) }));
    const r = await deploy();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await mainPid("a"), aPid);
    assert.equal(await answers(port.listen), "v1", "the blue-green service answers through its listen port");
    await waitUntil(() => existsSync(report), "the quoting service to write its report");
    const seen = JSON.parse(await readFile(report, "utf8")) as QuotingReport;
    assert.deepEqual(seen.argv, QUOTING_ARGS, "every argument arrives exactly as given");
    assert.deepEqual(seen.env, QUOTING_ENV, "every environment value arrives exactly as given");
  });

  /** Every running service of the namespace with its main PID (blue-green slots and proxy included). */
  async function runningPids(): Promise<string[]> {
    const pids: string[] = [];
    for (const u of await knownUnits()) if (u.endsWith(".service") && (await isActive(u)) === "active") pids.push(`${u} ${await show(u, "MainPID")}`);
    return pids;
  }

  it("bin/activate run again by hand changes nothing: same units, same main PIDs", async () => {
    const before = { units: await unitSnapshot(), pids: await runningPids() };
    assert.ok(before.pids.some((p) => p.startsWith(`${NS}-g`)), `the blue-green service runs: ${before.pids.join(", ")}`);
    const r = await container().exec([path.join(w.lab.profilesDir, "myapp", "bin", "activate")]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual({ units: await unitSnapshot(), pids: await runningPids() }, before);
  });

  /** Runs `pass` under a fixed load on the listen port; returns the load and when the pass ran. */
  async function underLoad(pass: () => Promise<ExecResult>): Promise<{ r: ExecResult; load: LoadSummary; from: number; to: number }> {
    const load = startLoad(`http://127.0.0.1:${port.listen}/`, 80);
    await waitUntil(() => load.now() > 500, "some load before the pass");
    const from = load.now();
    const r = await pass();
    const to = load.now();
    const until = to + 500;
    await waitUntil(() => load.now() > until, "some load after the pass");
    return { r, load: await load.stop(), from, to };
  }

  it("v6: a blue-green switch under load fails no request; the answers move from v1 to v2 and never back", async () => {
    await release(await buildProfile("6", { a: app("v2", port.a), g: blueGreen("v2"), q: quotingService(path.join(w.lab.root, "quoting.json")) }));
    const { r, load, from, to } = await underLoad(() => deploy());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual({ failed: load.failed, failures: load.failures }, { failed: 0, failures: {} }, "no request failed");
    assert.deepEqual(Object.keys(load.bodies).sort(), ["v1", "v2"], "only v1 and v2 answered");
    assert.ok(load.answers.filter((a) => a.endedAt < from).every((a) => a.body === "v1"), "v1 answered before the pass");
    assert.ok(load.answers.filter((a) => a.sentAt > to).every((a) => a.body === "v2"), "v2 answers after the pass");
    const firstV2 = load.answers.find((a) => a.body === "v2");
    assert.ok(firstV2 !== undefined);
    const late = load.answers.filter((a) => a.sentAt > firstV2.endedAt && a.body !== "v2");
    assert.deepEqual(late, [], "once v2 answered, every later request got v2");
  });

  it("v7: a blue-green release whose new slot never gets healthy fails under load without a failed request; the old slot keeps serving", async () => {
    await release(await buildProfile("7", { a: app("v2", port.a), g: blueGreen("v3", false), q: quotingService(path.join(w.lab.root, "quoting.json")) }));
    const { r, load } = await underLoad(() => deploy());
    assert.equal(r.code, 1, r.stderr);
    assert.ok(activationLines(r.stderr).some((l) => l.startsWith(`hail-services: ${NS}-g`)), `the failure line names g:\n${r.stderr}`);
    assert.equal(await w.profileTarget("myapp"), profiles["6"]);
    assert.deepEqual({ failed: load.failed, failures: load.failures }, { failed: 0, failures: {} }, "no request failed");
    assert.deepEqual(Object.keys(load.bodies), ["v2"], "only v2 answered");
    const slots = (await knownUnits()).filter((u) => u.startsWith(`${NS}-g@`));
    const active = [];
    for (const u of slots) if ((await isActive(u)) === "active") active.push(u);
    assert.equal(active.length, 1, `one slot runs, the failed one was stopped: ${slots.join(", ")}`);
  });

  it("v8: the running plain service a turned blue-green in place: the front socket takes over a's port, a answers v4", async () => {
    const a = { app: { version: "v4", healthy: true }, blueGreen: { listen: port.a, slots: [port.aBlue, port.aGreen], drainSec: 1 }, health: { http: "http://127.0.0.1:{port}/health", timeoutSec: 15 } };
    await release(await buildProfile("8", { a, g: blueGreen("v2"), q: quotingService(path.join(w.lab.root, "quoting.json")) }));
    const r = await deploy();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), profiles["8"]);
    assert.equal(await isActive(`${NS}-a.socket`), "active");
    assert.equal(await answers(port.a), "v4");
  });

  const configFile = () => path.join(w.lab.root, "hail.json");
  async function writeConfig(targets: string[]): Promise<void> {
    const config = { profilesDir: w.lab.profilesDir, stateDir: w.stateDir, logFormat: "json", targets: targets.map((t) => ({ profile: t, gateJob: w.gateUrl, constituent: t })) };
    await writeFile(configFile(), JSON.stringify(config, null, 2));
  }

  it("reboot: a new container has none of the units; the hail daemon's start runs bin/activate and they are back", async () => {
    await writeConfig(["smoke", "myapp"]);
    await container().poweroff();
    box = undefined;
    box = await bootSystemdContainer({ binds: [w.lab.root] });
    assert.deepEqual(await knownUnits(), [], "/run is empty after a reboot");
    const daemon = container().spawn(hailArgv(["--config", configFile(), "--no-start-spread"]), hailEnv());
    let stderr = "";
    daemon.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    try {
      await waitUntil(async () => (await answers(port.a)) === "v4" && (await answers(port.listen)) === "v2", `units back after the daemon's start:\n${stderr}`, 120_000);
      assert.equal(await isActive(`${NS}-a.socket`), "active");
    } finally {
      // hail runs inside the container's PID namespace, a child of nsenter: stopped by its pid
      const [hail] = await descendantsOf(daemon.pid ?? -1);
      if (hail !== undefined) process.kill(hail, "SIGTERM");
      await daemon;
    }
  });

  it("retiring the target: bin/deactivate runs and every unit of the profile is gone", async () => {
    // Hydra offers v6 again (a plain again: blue-green back to plain in place): the known-bad
    // v7 no longer fails every pass
    await release(profiles["6"] ?? "", false);
    await writeConfig(["smoke", "myapp"]);
    const claim = await hailInside(["--config", configFile(), "--oneshot"]);
    assert.equal(claim.code, 0, claim.stderr);
    assert.equal(await answers(port.a), "v2", "a is a plain service again");
    await writeConfig(["smoke"]);
    const r = await hailInside(["--config", configFile(), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await w.readState("myapp"))?.retiredAt != null, "the target is retired");
    assert.equal(await unitSnapshot(), "", "no unit file or link of the namespace is left");
    assert.deepEqual(await knownUnits(), [], "systemd knows no unit of the namespace");
    assert.equal(await answers(port.a), null);
    assert.equal(await answers(port.listen), null);
    assert.equal(await isActive("hail-smoke.service"), "active", "the other target's unit is left alone");
  });
});
