// rebootIfDue: a failing reboot command is tried again at a later pass inside the window, 5,
// 10 and 20 minutes apart, at most REBOOT_ATTEMPTS times; each failure is logged and recorded.
// A mark whose system is booted already is dropped.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Target } from "../../src/resolve/target.js";
import { REBOOT_ATTEMPTS, rebootIfDue } from "../../src/nixos/reboot.js";
import { parseRebootWindow } from "../../src/nixos/reboot-window.js";
import { emptyState } from "../../src/state/schema.js";
import { FakeFs, FakeNix, MemoryStore, PROFILE, TARGET, memoryLog } from "../deploy/fake-world.js";

const SYSTEM = "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-nixos-system-host-2";
const target: Target = {
  ...TARGET,
  nixos: { action: "switch", rebootWindow: parseRebootWindow("00:00-23:59"), rebootCommand: ["systemctl", "reboot"], bootedSystem: "/run/booted-system", currentSystem: "/run/current-system" },
};
/** Local noon: inside the window whatever the test's time zone. */
const START = new Date(2026, 2, 1, 12, 0, 0);
const minutes = (n: number) => new Date(START.getTime() + n * 60_000);

function world(commandFails: (attempt: number) => boolean) {
  const nix = new FakeNix(new FakeFs());
  let attempt = 0;
  nix.failActivation = (_, what) => (what === "reboot command" && commandFails((attempt += 1)) ? "exit 1" : null);
  const store = new MemoryStore({ ...emptyState("system", PROFILE), rebootPending: { storePath: SYSTEM, changed: ["kernel"], since: START.toISOString(), failures: 0, retryAt: null } });
  const log = memoryLog();
  let now = START;
  const deps = { runner: nix, fs: nix.fs, log, store, now: () => now };
  const reboots = () => nix.calls.filter((c) => c.startsWith("reboot command")).length;
  return { nix, store, log, deps, reboots, at: (t: Date) => (now = t) };
}

describe("a failing reboot command", () => {
  it("is tried again after 5, 10 and 20 minutes, not before, then hail gives up", async () => {
    const w = world(() => true);
    assert.equal((await rebootIfDue(w.deps, target)).kind, "failed");
    assert.equal(w.reboots(), 1);
    assert.deepEqual(w.store.state.rebootPending, { storePath: SYSTEM, changed: ["kernel"], since: START.toISOString(), failures: 1, retryAt: minutes(5).toISOString() });
    assert.equal(w.store.state.lastError?.message, "reboot command failed: reboot command failed (exit 1)");
    // passes before the retry time wait, and say until when
    w.at(minutes(4));
    assert.equal((await rebootIfDue(w.deps, target)).kind, "waiting");
    assert.equal(w.reboots(), 1);
    assert.ok(w.log.lines.some((l) => l.msg === `reboot into ${SYSTEM} pending; the reboot command failed once, next try from ${minutes(5).toISOString()}`));
    w.at(minutes(5));
    assert.equal((await rebootIfDue(w.deps, target)).kind, "failed");
    assert.equal(w.store.state.rebootPending?.retryAt, minutes(15).toISOString());
    w.at(minutes(15));
    await rebootIfDue(w.deps, target);
    assert.equal(w.store.state.rebootPending?.retryAt, minutes(35).toISOString());
    w.at(minutes(35));
    await rebootIfDue(w.deps, target);
    assert.equal(w.reboots(), REBOOT_ATTEMPTS);
    assert.equal(w.store.state.rebootPending, null, "given up: no mark left to retry");
    w.at(minutes(120));
    assert.equal((await rebootIfDue(w.deps, target)).kind, "nothing-to-do");
    assert.equal(w.reboots(), REBOOT_ATTEMPTS);
    const errors = w.log.lines.filter((l) => l.level === "error").map((l) => l.msg);
    assert.equal(errors.length, REBOOT_ATTEMPTS);
    assert.match(errors[0] ?? "", /^the reboot command failed \(attempt 1 of 4\): reboot command failed \(exit 1\); hail tries again from \S+, inside the window \(attempt 2 of 4\)/);
    assert.match(errors[3] ?? "", new RegExp(`^the reboot command failed \\(attempt 4 of 4\\): .*; hail gives up after 4 attempts: reboot by hand to boot ${SYSTEM}$`));
  });

  it("that works at its second attempt reboots, and the mark is gone", async () => {
    const w = world((attempt) => attempt === 1);
    assert.equal((await rebootIfDue(w.deps, target)).kind, "failed");
    w.at(minutes(5));
    assert.equal((await rebootIfDue(w.deps, target)).kind, "rebooting");
    assert.equal(w.reboots(), 2);
    assert.equal(w.store.state.rebootPending, null);
  });

  it("outside the window waits, whatever the retry time", async () => {
    const w = world(() => true);
    await rebootIfDue(w.deps, target);
    w.at(new Date(2026, 2, 1, 23, 59, 30));
    assert.equal((await rebootIfDue(w.deps, target)).kind, "waiting");
    assert.equal(w.reboots(), 1);
  });
});

describe("a pending reboot the machine has done already", () => {
  it("is forgotten once the booted system is the marked one (rebooted by hand): no second reboot, with or without a window", async () => {
    const system = "/nix/store/1v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-nixos-system-host-2";
    const booted = "/run/booted-system";
    for (const rebootWindow of [target.nixos?.rebootWindow ?? null, null]) {
      const w = world(() => false);
      w.nix.fs.put(`${system}/nixos-version`);
      w.nix.fs.link(booted, system);
      w.store.state = { ...w.store.state, rebootPending: { storePath: system, changed: ["switch-inhibitors"], since: START.toISOString(), failures: 0, retryAt: null } };
      const nixos = { ...(target.nixos ?? assert.fail("a --nixos target")), rebootWindow, bootedSystem: booted };
      assert.equal((await rebootIfDue(w.deps, { ...target, nixos })).kind, "nothing-to-do");
      assert.equal(w.reboots(), 0);
      assert.equal(w.store.state.rebootPending, null);
    }
    // booted into another system: the mark stays, and inside the window hail reboots
    const w = world(() => false);
    w.nix.fs.put(`${system}/nixos-version`);
    w.nix.fs.link(booted, system);
    assert.equal((await rebootIfDue(w.deps, { ...target, nixos: { ...(target.nixos ?? assert.fail()), bootedSystem: booted } })).kind, "rebooting");
  });
});
