// bin/activate's diff and switch methods, and bin/deactivate, against a fake systemctl: which
// systemctl calls each change makes, in which order, and what is left in the unit dir.
import assert from "node:assert/strict";
import { readFile, readlink, readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createNixLab, type NixLab } from "../support/nix-lab.js";
import { buildProfile, createFakeHost, exists, type FakeHost } from "./fake-host.js";
import { type HealthServer, startHealthServer } from "./health-server.js";

describe("bin/activate switches units by their method (fake systemctl)", () => {
  let lab: NixLab;
  let host: FakeHost;
  let health: HealthServer;
  const profiles: Record<string, string> = {};
  // v1 → v2: r, l, s, k change (one per method), u stays, gone is removed.
  const spec = (version: string, extra: Record<string, unknown> = {}) => ({
    name: "demo",
    version,
    services: {
      r: { exec: ["/bin/sleep", `r-${version}`] },
      l: { exec: ["/bin/sleep", `l-${version}`], switchMethod: "reload", serviceConfig: { ExecReload: "/bin/true" } },
      s: { exec: ["/bin/sleep", `s-${version}`], switchMethod: "stop-start" },
      k: { exec: ["/bin/sleep", `k-${version}`], switchMethod: "keep-old" },
      u: { exec: ["/bin/sleep", "u"], health: { http: `http://127.0.0.1:${String(health.port)}/health`, timeoutSec: 2 } },
      ...extra,
    },
  });
  before(async () => {
    [lab, host, health] = await Promise.all([createNixLab(), createFakeHost(), startHealthServer()]);
    [profiles.v1, profiles.v2] = await Promise.all([
      buildProfile(lab, spec("1", { gone: { exec: ["/bin/sleep", "gone"], timer: { onCalendar: "hourly" } } })),
      buildProfile(lab, spec("2")),
    ]);
  });
  after(async () => {
    await Promise.all([lab?.cleanup(), host?.cleanup(), health?.close()]);
  });
  const p = (v: string) => profiles[v] ?? assert.fail(`no profile ${v}`);

  it("v1: installs the unit links and starts every wanted unit, one by one", async () => {
    const r = await host.run(p("v1"), "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(await host.takeCalls(), [
      "daemon-reload",
      "start demo-gone.timer",
      "start demo-k.service",
      "start demo-l.service",
      "start demo-r.service",
      "start demo-s.service",
      "start demo-u.service",
    ]);
    assert.equal(await readlink(path.join(host.stateDir, "demo", "current")), p("v1"));
    assert.equal(
      await readlink(path.join(host.unitDir, "demo-r.service")),
      path.join(host.stateDir, "demo", "current", "units", "demo-r.service"),
    );
    assert.equal(await readlink(path.join(host.unitDir, "multi-user.target.wants", "demo-r.service")), "../demo-r.service");
    assert.equal(await readlink(path.join(host.unitDir, "timers.target.wants", "demo-gone.timer")), "../demo-gone.timer");
    assert.ok(!(await exists(path.join(host.unitDir, "multi-user.target.wants", "demo-gone.service"))), "a timer's service is not wanted");
  });

  it("a second run makes no systemctl call that changes anything", async () => {
    const pids = await Promise.all(["r", "u"].map((s) => host.mainPid(`demo-${s}.service`)));
    const r = await host.run(p("v1"), "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(await host.takeCalls(), []);
    assert.deepEqual(await Promise.all(["r", "u"].map((s) => host.mainPid(`demo-${s}.service`))), pids);
  });

  it("v2: restart, reload, stop before the switch then start, keep-old untouched, unchanged untouched, removed stopped", async () => {
    const uPid = await host.mainPid("demo-u.service");
    const r = await host.run(p("v2"), "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(await host.takeCalls(), [
      "stop demo-gone.timer",
      "reset-failed demo-gone.timer",
      "stop demo-gone.service",
      "reset-failed demo-gone.service",
      "stop demo-s.service",
      "daemon-reload",
      "reload demo-l.service",
      "restart demo-r.service",
      "start demo-s.service",
    ]);
    assert.equal(await host.mainPid("demo-u.service"), uPid, "the unchanged unit keeps its main PID");
    for (const gone of ["demo-gone.service", "demo-gone.timer", "timers.target.wants"]) {
      assert.ok(!(await exists(path.join(host.unitDir, gone))), `${gone} removed`);
    }
    assert.equal(await readlink(path.join(host.stateDir, "demo", "current")), p("v2"));
  });

  it("a unit of the set that is not active is started again on the next run (converge)", async () => {
    await host.setState("demo-r.service", { ActiveState: "failed", Result: "exit-code" });
    const r = await host.run(p("v2"), "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(await host.takeCalls(), ["start demo-r.service"]);
  });

  it("an unhealthy unit fails activate with one line naming it, then its journal", async () => {
    health.status = 503;
    const r = await host.run(p("v2"), "activate");
    health.status = 200;
    assert.equal(r.exitCode, 1);
    const lines = r.stderr.split("\n");
    assert.match(lines[0] ?? "", /^hail-services: demo-u\.service: not healthy within 2 s: health check GET http:\/\/127\.0\.0\.1:\d+\/health answered HTTP 503$/);
    assert.equal(lines[1], "fake journal of demo-u.service: line 1");
  });

  it("rolling back: the previous profile's activate restores its units (links, method calls)", async () => {
    const r = await host.run(p("v1"), "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    const calls = await host.takeCalls();
    assert.deepEqual(calls.filter((c) => c.startsWith("start demo-gone")), ["start demo-gone.timer"]);
    assert.ok(calls.includes("restart demo-r.service"));
    assert.equal(await readlink(path.join(host.stateDir, "demo", "current")), p("v1"));
    assert.ok(await exists(path.join(host.unitDir, "timers.target.wants", "demo-gone.timer")));
  });

  it("deactivate stops every unit and leaves no link, .wants link or state behind", async () => {
    const r = await host.run(p("v2"), "deactivate");
    assert.equal(r.exitCode, 0, r.stderr);
    const stops = (await host.takeCalls()).filter((c) => c.startsWith("stop "));
    assert.deepEqual(stops.slice(0, 1), ["stop demo-gone.timer"], "the timer goes before any service");
    assert.deepEqual(
      stops.toSorted(),
      ["gone", "k", "l", "r", "s", "u"].map((s) => `stop demo-${s}.service`).concat("stop demo-gone.timer").toSorted(),
    );
    assert.deepEqual(await readdir(host.unitDir), []);
    assert.ok(!(await exists(path.join(host.stateDir, "demo"))));
  });
});

describe("bin/activate fails clearly and bounds every wait (fake systemctl)", () => {
  let lab: NixLab;
  let host: FakeHost;
  before(async () => {
    [lab, host] = await Promise.all([createNixLab(), createFakeHost()]);
  });
  after(async () => {
    await Promise.all([lab?.cleanup(), host?.cleanup()]);
  });

  it("a unit that never becomes active: a timeout that names it", async () => {
    const profile = await buildProfile(lab, { name: "slow", services: { web: { exec: ["/bin/sleep", "1"], startTimeoutSec: 1 } } });
    await host.onStart("slow-web.service", { ActiveState: "activating", SubState: "start" });
    const r = await host.run(profile, "activate");
    assert.equal(r.exitCode, 1);
    assert.equal(
      r.stderr.split("\n")[0],
      "hail-services: slow-web.service: not active within 1 s (still activating/start); raise startTimeoutSec if it is only slow",
    );
  });

  it("a crash-looping service (NRestarts grows while it looks active) fails", async () => {
    const profile = await buildProfile(lab, { name: "loop", services: { web: { exec: ["/bin/false"] } } });
    await host.onStart("loop-web.service", { ActiveState: "active", SubState: "running", CrashLoop: 1 });
    const r = await host.run(profile, "activate");
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr.split("\n")[0] ?? "", /^hail-services: loop-web\.service: crash-looping: systemd restarted it \d+ times within 0 s of starting$/);
  });

  it("systemctl's own error goes into the failure line, not ahead of it", async () => {
    const profile = await buildProfile(lab, { name: "bad", services: { web: { exec: ["/bin/false"] } } });
    await host.onStart("bad-web.service", { FAIL: "Job for bad-web.service failed." });
    const r = await host.run(profile, "activate");
    assert.equal(r.exitCode, 1);
    assert.equal(r.stderr.split("\n")[0], "hail-services: bad-web.service: systemctl start failed: Job for bad-web.service failed.");
  });

  it("two namespaces side by side: each deactivate removes only its own units", async () => {
    const [a, b] = await Promise.all(["ns-a", "ns-b"].map((name) => buildProfile(lab, { name, services: { web: { exec: ["/bin/sleep", name] } } })));
    for (const profile of [a, b]) assert.equal((await host.run(profile ?? "", "activate")).exitCode, 0);
    await host.takeCalls();
    assert.equal((await host.run(a ?? "", "deactivate")).exitCode, 0);
    assert.deepEqual((await host.takeCalls()).filter((c) => c.startsWith("stop")), ["stop ns-a-web.service"]);
    assert.ok(await exists(path.join(host.unitDir, "ns-b-web.service")));
    assert.ok(!(await exists(path.join(host.unitDir, "ns-a-web.service"))));
  });

  it("refuses, before any change, a unit name whose file another namespace owns", async () => {
    // ns `clash` + service `b-web` and ns `clash-b` + service `web` both give clash-b-web.service.
    const [first, second] = await Promise.all([
      buildProfile(lab, { name: "clash-b", services: { web: { exec: ["/bin/sleep", "first"] } } }),
      buildProfile(lab, { name: "clash", services: { "b-web": { exec: ["/bin/sleep", "second"] } } }),
    ]);
    assert.equal((await host.run(first ?? "", "activate")).exitCode, 0);
    await host.takeCalls();
    const r = await host.run(second ?? "", "activate");
    assert.equal(r.exitCode, 2);
    assert.equal(
      r.stderr.split("\n")[0],
      `hail-services: clash-b-web.service: ${host.unitDir}/clash-b-web.service already exists and is not profile clash's (it is ${host.stateDir}/clash-b/current/units/clash-b-web.service); another profile or the host owns this unit name: remove that unit or give this profile another name`,
    );
    assert.deepEqual(await host.takeCalls(), []);
    assert.ok(!(await exists(path.join(host.stateDir, "clash"))));
    assert.equal(await readFile(path.join(host.unitDir, "clash-b-web.service"), "utf8").then((t) => t.includes("first")), true);
  });
});
