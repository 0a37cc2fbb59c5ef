// hail survives its own restart mid-switch. A new system that changes hail restarts hail's
// unit while hail waits for switch-to-configuration. No systemd runs here, so this tests the
// direct-run fallback for real (the systemd-run argument vector has a unit test): the fake
// switch sends hail SIGTERM, as systemd would when it stops hail's unit, and goes on.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { readLines } from "../support/cli.js";
import type { FakeSystem } from "../support/nixos-systems.js";
import { bootedSystemLike, publishedSystems } from "../support/nixos-systems.js";
import { createWorld, greenGate, waitUntil, type World } from "./world.js";

// Only the first run signals hail (a second run of the same switch changes no unit); the
// switch goes on for a second after the signal and then records that it finished.
// (A `switch` points the lab's current-system link, beside the booted one, at its system.)
// Killed before it did anything: hail gets SIGKILL as the switch starts, which then gives up.
const KILLS_HAIL_FIRST = 'if [ ! -e "$HAIL_TEST_KILLED" ]; then touch "$HAIL_TEST_KILLED"; kill -KILL "$PPID"; exit 1; fi';

const RESTARTS_HAIL = [
  'if [ ! -e "$HAIL_TEST_KILLED" ]; then touch "$HAIL_TEST_KILLED"; kill -TERM "$PPID"; sleep 1; fi',
  'echo "$out finished" >> "$HAIL_TEST_SWITCH_LOG"',
].join("\n");

describe("hail --nixos survives a switch that restarts hail", () => {
  let w: World;
  let switchLog: string;
  let booted: string;
  let currentSystem: string;
  let s1: FakeSystem, s2: FakeSystem, s3: FakeSystem, s4: FakeSystem, s5: FakeSystem;
  const args = (...extra: string[]) => [...w.gateArgs("system"), "--nixos", "--booted-system", booted, ...extra];
  const env = (killed: string) => ({
    ...w.env,
    HAIL_TEST_SWITCH_LOG: switchLog,
    HAIL_TEST_KILLED: path.join(w.lab.root, killed),
    HAIL_TEST_CURRENT_SYSTEM: currentSystem,
  });
  const switchesOf = async (system: FakeSystem) => (await readLines(switchLog)).filter((l) => l === `${system.path} switch`).length;

  before(async () => {
    w = await createWorld();
    switchLog = path.join(w.lab.root, "switches.log");
    // hail reads the current system beside the booted one (--booted-system LAB/booted)
    currentSystem = path.join(w.lab.root, "current-system");
    [s1, s2, s3, s4, s5] = (await publishedSystems(
      w.lab,
      { name: "host", version: "1", kernel: "6.1" },
      { name: "host", version: "2", kernel: "6.1", switchExtra: RESTARTS_HAIL },
      { name: "host", version: "3", kernel: "6.1", switchExtra: RESTARTS_HAIL },
      { name: "host", version: "4", kernel: "6.6", switchExtra: RESTARTS_HAIL },
      { name: "host", version: "5", kernel: "6.1", switchBefore: KILLS_HAIL_FIRST },
    )) as [FakeSystem, FakeSystem, FakeSystem, FakeSystem, FakeSystem];
    booted = await bootedSystemLike(path.join(w.lab.root, "booted"), s1);
    for (const b of greenGate(100, 10, s1.path)) w.hydra.addBuild(b);
    const r = await w.hail(args("--oneshot"), env("unused"));
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => w.close());

  it("daemon: SIGTERM mid-switch waits for the switch, records the deployment, the next start converges", async () => {
    for (const b of greenGate(200, 20, s2.path)) w.hydra.addBuild(b);
    const daemon = w.startDaemon(args("--poll-period", "1h"), env("killed-daemon"));
    const r = await daemon.child;
    assert.equal(r.exitCode, 0, daemon.stderr);
    assert.match(daemon.stderr, /received SIGTERM: stopping after the running step/);
    assert.deepEqual((await readLines(switchLog)).slice(-2), [`${s2.path} switch`, `${s2.path} finished`]);
    const state = await w.readState("system");
    assert.equal(state?.lastDeployed?.storePath, s2.path);
    assert.equal(state?.lastAttempt?.result, "success");
    const switches = (await readLines(switchLog)).length;
    const next = await w.hail(args("--oneshot"), env("killed-daemon"));
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /up to date at build 201/);
    assert.equal((await readLines(switchLog)).length, switches, "nothing left to switch");
  });

  it("a daemon starting on a current system does not switch it again (its boot activated it)", async () => {
    const switches = (await readLines(switchLog)).length;
    const daemon = w.startDaemon(args("--poll-period", "1h", "--log-level", "debug"), env("killed-daemon"));
    await daemon.waitFor(/profile is up to date/, "the first pass");
    assert.equal(await daemon.stop(), 0, daemon.stderr);
    assert.equal((await readLines(switchLog)).length, switches, "no switch-to-configuration at start-up");
  });

  it("oneshot killed mid-switch: the switch completes, the next start finishes the deployment without switching again", async () => {
    for (const b of greenGate(300, 30, s3.path)) w.hydra.addBuild(b);
    const killed = await w.hail(args("--oneshot"), env("killed-oneshot"));
    assert.notEqual(killed.code, 0, "the one-shot died from the signal");
    await waitUntil(async () => (await readLines(switchLog)).includes(`${s3.path} finished`), "the switch to finish without hail");
    assert.equal(await w.profileTarget("system"), s3.path);
    const open = await w.readState("system");
    assert.equal(open?.lastAttempt?.storePath, s3.path);
    assert.equal(open?.lastAttempt?.endedAt, null, "the attempt is still open in the state file");
    const next = await w.hail(args("--oneshot"), env("killed-oneshot"));
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /an earlier run stopped while deploying build 301; finishing it/);
    assert.equal(await switchesOf(s3), 1, "switch-to-configuration ran once: the next run saw that it had completed");
    assert.match(next.stderr, /the switch to \S+ ran to its end \(\S+current-system points at it\): not switching again/);
    const state = await w.readState("system");
    assert.equal(state?.lastDeployed?.storePath, s3.path);
    assert.equal(state?.lastAttempt?.result, "success");
    assert.equal(state?.lastAttempt?.endedAt !== null, true);
  });

  it("a new kernel whose interrupted deployment the next start finishes waits for its reboot", async () => {
    for (const b of greenGate(400, 40, s4.path)) w.hydra.addBuild(b);
    // a window twelve hours away from now (TZ=UTC): outside it, so the reboot stays pending
    const h = (new Date().getUTCHours() + 12) % 24;
    const window = `${String(h).padStart(2, "0")}:00-${String((h + 1) % 24).padStart(2, "0")}:00`;
    const withWindow = [...args("--oneshot"), "--reboot-window", window, "--reboot-command", "/bin/false"];
    const killed = await w.hail(withWindow, { ...env("killed-kernel"), TZ: "UTC" });
    assert.notEqual(killed.code, 0, "the one-shot died from the signal");
    await waitUntil(async () => (await readLines(switchLog)).includes(`${s4.path} finished`), "the switch to finish without hail");
    assert.equal((await w.readState("system"))?.lastAttempt?.endedAt, null);
    const next = await w.hail(withWindow, { ...env("killed-kernel"), TZ: "UTC" });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /finishing it/);
    assert.deepEqual((await readLines(switchLog)).filter((l) => l.startsWith(s4.path)), [`${s4.path} boot`, `${s4.path} finished`, `${s4.path} boot`, `${s4.path} finished`]);
    assert.equal((await w.readState("system"))?.rebootPending?.storePath, s4.path);
  });

  it("oneshot killed as its switch starts, before it activated anything: the next start switches, once", async () => {
    for (const b of greenGate(500, 50, s5.path)) w.hydra.addBuild(b);
    const killed = await w.hail(args("--oneshot"), env("killed-before"));
    assert.notEqual(killed.code, 0, "the one-shot died from SIGKILL");
    assert.equal(await w.profileTarget("system"), s5.path, "the profile was switched before the switch ran");
    assert.equal(await switchesOf(s5), 0, "the switch gave up before it did anything");
    assert.equal((await w.readState("system"))?.lastAttempt?.endedAt, null);
    const next = await w.hail(args("--oneshot"), env("killed-before"));
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /an earlier run stopped while deploying build 501; finishing it/);
    assert.doesNotMatch(next.stderr, /not switching again/);
    assert.equal(await switchesOf(s5), 1, "the next run switched, once");
    const state = await w.readState("system");
    assert.equal(state?.lastDeployed?.storePath, s5.path);
    assert.equal(state?.lastAttempt?.result, "success");
  });
});
