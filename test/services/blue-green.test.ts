// The blue-green switch of bin/activate against a fake systemctl: two HTTP servers stand in
// for the slot instances (their health endpoints), and the live.sock symlink is where
// traffic goes. Asserts the order: start the idle slot, its health, the swap, stop the old.
import assert from "node:assert/strict";
import { readlinkSync } from "node:fs";
import { readlink } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createNixLab, type NixLab } from "../support/nix-lab.js";
import { buildProfile, createFakeHost, exists, type FakeHost } from "./fake-host.js";
import { type HealthServer, startHealthServer } from "./health-server.js";

describe("blue-green switch (fake systemctl)", () => {
  let lab: NixLab;
  let host: FakeHost;
  let slotA: HealthServer;
  let slotB: HealthServer;
  let a = "";
  let b = "";
  const profiles: Record<string, string> = {};
  const livePath = () => path.join(host.stateDir, "bg", "bg", "bg-web", "live.sock");
  const live = () => readlink(livePath()).catch(() => "none");
  const liveNow = () => {
    try {
      return readlinkSync(livePath());
    } catch {
      return "none";
    }
  };
  const spec = (version: string) => ({
    name: "bg",
    version,
    services: {
      web: {
        exec: ["/bin/sleep", version],
        blueGreen: { listen: 18999, slots: [slotA.port, slotB.port], drainSec: 0 },
        health: { http: "http://127.0.0.1:{port}/health", timeoutSec: 2 },
      },
    },
  });
  before(async () => {
    [lab, host, slotA, slotB] = await Promise.all([createNixLab(), createFakeHost(), startHealthServer(), startHealthServer()]);
    [a, b] = [String(slotA.port), String(slotB.port)];
    // Where traffic goes at the moment a slot's health is checked.
    for (const slot of [slotA, slotB]) slot.observe = liveNow;
    [profiles.v1, profiles.v2, profiles.v3, profiles.plain] = await Promise.all([
      buildProfile(lab, spec("1")),
      buildProfile(lab, spec("2")),
      buildProfile(lab, spec("3")),
      buildProfile(lab, { name: "bg", services: { other: { exec: ["/bin/sleep", "other"] } } }),
    ]);
  });
  after(async () => {
    await Promise.all([lab?.cleanup(), host?.cleanup(), slotA?.close(), slotB?.close()]);
  });
  const p = (v: string) => profiles[v] ?? assert.fail(`no profile ${v}`);

  it("first activate: proxies up, the first slot started, checked, then made live", async () => {
    const r = await host.run(p("v1"), "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(await host.takeCalls(), [
      "daemon-reload",
      "start bg-web.socket",
      `start bg-web-slot-${a}.socket`,
      `start bg-web-slot-${b}.socket`,
      `start bg-web@${a}.service`,
    ]);
    assert.equal(await live(), `slot-${a}.sock`);
    assert.equal(slotA.seen.length > 0, true, "slot A's health was checked");
  });

  it("v2: starts the idle slot, checks it while the old one is live, swaps, then stops the old", async () => {
    slotB.seen.length = 0;
    const r = await host.run(p("v2"), "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(await host.takeCalls(), ["daemon-reload", `start bg-web@${b}.service`, `stop bg-web@${a}.service`]);
    assert.deepEqual([...new Set(slotB.seen)], [`slot-${a}.sock`], "B was checked while A was still live");
    assert.equal(await live(), `slot-${b}.sock`);
    assert.ok(!(await exists(path.join(host.stateDir, "bg", "bg", "bg-web", `slot-${a}.hash`))));
  });

  it("a second run leaves the live slot alone", async () => {
    const r = await host.run(p("v2"), "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(await host.takeCalls(), []);
    assert.equal(await live(), `slot-${b}.sock`);
  });

  it("v3 fails its health check: the new slot is stopped, the old one stays live, exit 1", async () => {
    slotA.status = 500;
    const r = await host.run(p("v3"), "activate");
    slotA.status = 200;
    assert.equal(r.exitCode, 1);
    assert.equal(
      r.stderr.split("\n")[0],
      `hail-services: bg-web@${a}.service: not healthy within 2 s: health check GET http://127.0.0.1:${a}/health answered HTTP 500 (stopped it; slot ${b} keeps serving)`,
    );
    assert.deepEqual(await host.takeCalls(), ["daemon-reload", `start bg-web@${a}.service`, `stop bg-web@${a}.service`]);
    assert.equal(await live(), `slot-${b}.sock`);
  });

  it("rolling back to v2: its slot is live already, nothing is started or stopped", async () => {
    const r = await host.run(p("v2"), "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(await host.takeCalls(), ["daemon-reload"]);
    assert.equal(await live(), `slot-${b}.sock`);
  });

  it("deactivate stops the sockets first, then both slots and the proxies, and forgets the slots", async () => {
    const r = await host.run(p("v2"), "deactivate");
    assert.equal(r.exitCode, 0, r.stderr);
    const stops = (await host.takeCalls()).filter((c) => c.startsWith("stop "));
    assert.deepEqual(stops.slice(0, 3).toSorted(), ["bg-web", `bg-web-slot-${a}`, `bg-web-slot-${b}`].map((u) => `stop ${u}.socket`).toSorted());
    assert.deepEqual(stops.slice(3, 5), [`stop bg-web@${a}.service`, `stop bg-web@${b}.service`]);
    assert.ok(!(await exists(path.join(host.stateDir, "bg"))));
  });

  it("a profile without the blue-green service stops both slot instances before their template goes", async () => {
    assert.equal((await host.run(p("v2"), "activate")).exitCode, 0);
    await host.takeCalls();
    const r = await host.run(p("plain"), "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    const calls = await host.takeCalls();
    const reload = calls.indexOf("daemon-reload");
    assert.ok(calls.indexOf(`stop bg-web@${a}.service`) < reload && calls.indexOf(`stop bg-web@${b}.service`) < reload, calls.join("\n"));
    assert.ok(calls.indexOf(`stop bg-web@${a}.service`) >= 0);
    assert.ok(!(await exists(path.join(host.stateDir, "bg", "bg"))), "the slots' state is gone");
    assert.ok(!(await exists(path.join(host.unitDir, "bg-web@.service"))));
  });
});

describe("a running plain service turned blue-green under the same name (fake systemctl)", () => {
  let lab: NixLab;
  let host: FakeHost;
  let slotA: HealthServer;
  let slotB: HealthServer;
  const profiles: string[] = [];
  before(async () => {
    [lab, host, slotA, slotB] = await Promise.all([createNixLab(), createFakeHost(), startHealthServer(), startHealthServer()]);
    const web = { exec: ["/bin/sleep", "web"], health: { http: "http://127.0.0.1:{port}/health", timeoutSec: 2 } };
    profiles.push(
      ...(await Promise.all([
        buildProfile(lab, { name: "app", services: { web: { exec: ["/bin/sleep", "plain"] } } }),
        buildProfile(lab, { name: "app", services: { web: { ...web, blueGreen: { listen: 18998, slots: [slotA.port, slotB.port], drainSec: 0 } } } }),
      ])),
    );
  });
  after(async () => {
    await Promise.all([lab?.cleanup(), host?.cleanup(), slotA?.close(), slotB?.close()]);
  });

  it("the plain service is stopped before the switch, so its front socket can start and take the port", async () => {
    const [plain, blueGreen] = profiles;
    assert.ok(plain !== undefined && blueGreen !== undefined);
    assert.equal((await host.run(plain, "activate")).exitCode, 0);
    await host.takeCalls();
    const r = await host.run(blueGreen, "activate");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(await host.takeCalls(), [
      "stop app-web.service",
      "daemon-reload",
      "start app-web.socket",
      `start app-web-slot-${slotA.port}.socket`,
      `start app-web-slot-${slotB.port}.socket`,
      `start app-web@${slotA.port}.service`,
    ]);
  });
});
