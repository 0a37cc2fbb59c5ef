// A whole `--nixos` pass through the fake world, without Nix: the system is checked, the profile
// switched, switch-to-configuration run with the action the boot links call for, a reboot run
// inside its window only and only once, and a generation that cuts the machine off from Hydra
// (--confirm-timeout) switched back. Every file the pass looks at is a FakeFs entry; the tests
// assert the commands FakeNix recorded and the links and state the pass left.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TargetAgent } from "../../src/agent/target-agent.js";
import type { PassDeps } from "../../src/deploy/pass.js";
import { runPass } from "../../src/deploy/pass.js";
import type { Target } from "../../src/resolve/target.js";
import { HydraUnavailable } from "../../src/errors.js";
import { realiseCommand, renderCommand, setProfileCommand, switchGenerationCommand } from "../../src/nix/commands.js";
import { switchUnitName } from "../../src/nixos/activation.js";
import type { NixosConfig } from "../../src/nixos/config.js";
import { parseRebootWindow } from "../../src/nixos/reboot-window.js";
import { emptyState } from "../../src/state/schema.js";
import { recordSuccess, startAttempt } from "../../src/state/transitions.js";
import type { FakeFs } from "../deploy/fake-world.js";
import { AT, BOOTED_SYSTEM, CURRENT_SYSTEM, MemoryStore, OPTS, PROFILE, STORE, TARGET, appBuild, fakeHydra, ref, worldWith } from "../deploy/fake-world.js";

/** /nix/store/<hash>-nixos-system-host-VERSION */
const system = (version: string) => `${STORE}/${version.padStart(32, "0")}-nixos-system-host-${version}`;
const V0 = system("0");
const V1 = system("1");
const V2 = system("2");

/** A NixOS toplevel in the fake store: nixos-version, an executable switch-to-configuration, boot links into `kernel`'s packages. */
function putSystem(fs: FakeFs, toplevel: string, kernel: string): void {
  fs.put(`${toplevel}/nixos-version`, "26.05");
  fs.put(`${toplevel}/bin/switch-to-configuration`);
  for (const [link, file] of [["kernel", "bzImage"], ["initrd", "initrd"], ["kernel-modules", "lib/modules/.keep"]] as const) {
    const pkg = `${STORE}/${kernel.padStart(32, "1")}-${link}-${kernel}`;
    fs.put(`${pkg}/${file}`);
    fs.link(`${toplevel}/${link}`, link === "kernel-modules" ? pkg : `${pkg}/${file}`);
  }
}

/** Local times (the window is local time, whatever the test's time zone): noon is outside 02:00-04:00, 03:00 inside. */
const NOON = new Date(2026, 2, 1, 12, 0, 0);
const THREE_AM = new Date(2026, 2, 2, 3, 0, 0);

function nixosTarget(nixos: Partial<NixosConfig> = {}): Target {
  return {
    ...TARGET,
    nixos: { action: "switch", rebootWindow: null, rebootCommand: ["systemctl", "reboot"], bootedSystem: BOOTED_SYSTEM, currentSystem: CURRENT_SYSTEM, ...nixos },
  };
}

/**
 * A machine booted into V1 (generation 1, deployed by hail as build 1); Hydra offers V2 as
 * build 2, built with `kernel` (V1's is `v1Kernel`, 6.1). The clock moves only when the pass sleeps.
 */
function nixosWorld(kernel = "6.1", v1Kernel = "6.1") {
  const world = worldWith(V1);
  putSystem(world.fs, V1, v1Kernel);
  putSystem(world.fs, V2, kernel);
  world.fs.link(BOOTED_SYSTEM, V1);
  world.fs.link(CURRENT_SYSTEM, V1);
  const v1 = ref(1, V1);
  const store = new MemoryStore(recordSuccess(startAttempt(emptyState("app", PROFILE), v1, { generation: null, link: null, storePath: null }, AT), v1, AT));
  const hydra = fakeHydra(appBuild(2, V2));
  const clock = { now: NOON };
  const deps: PassDeps = {
    hydra: hydra.api,
    runner: world.nix,
    fs: world.fs,
    processes: world.processes,
    log: world.log,
    store,
    storeDir: STORE,
    now: () => clock.now,
    sleep: async (ms) => void (clock.now = new Date(clock.now.getTime() + ms)),
  };
  return { ...world, store, hydra, clock, deps };
}

const realise = (p: string) => renderCommand(realiseCommand(p));
const setProfile = (p: string) => renderCommand(setProfileCommand(PROFILE, p));

describe("a --nixos pass through the fake world", () => {
  it("switch: the same kernel as the booted system: switch-to-configuration switch, current-system moves, no reboot pending", async () => {
    const w = nixosWorld();
    const outcome = await runPass(w.deps, nixosTarget(), { cache: null }, { ...OPTS, rollout: null });
    assert.equal(outcome.kind, "deployed");
    assert.deepEqual(w.nix.calls, [realise(V2), setProfile(V2), `switch-to-configuration switch ${V2} build=2`]);
    assert.equal(await w.fs.at(), V2);
    assert.equal(w.fs.links.get(CURRENT_SYSTEM), V2);
    assert.equal(w.fs.links.get(BOOTED_SYSTEM), V1);
    assert.equal(w.nix.bootDefault, V2);
    assert.equal(w.store.state.lastDeployed?.storePath, V2);
    assert.equal(w.store.state.rebootPending, null);
  });

  it("switch under systemd: the switch runs in its transient unit, reset before and after", async () => {
    const w = nixosWorld();
    w.fs.put("/run/systemd/system/.keep");
    assert.equal((await runPass(w.deps, nixosTarget(), { cache: null }, { ...OPTS, rollout: null })).kind, "deployed");
    const reset = `systemctl reset-failed -- ${switchUnitName(PROFILE)}`;
    assert.deepEqual(w.nix.calls, [realise(V2), setProfile(V2), reset, `systemd-run switch-to-configuration switch ${V2} build=2`, reset]);
    assert.equal(w.fs.links.get(CURRENT_SYSTEM), V2);
  });

  it("refuses a closure that is not a NixOS system before the profile moves (65)", async () => {
    const w = nixosWorld();
    w.fs.owners.set(`${V2}/bin/switch-to-configuration`, { uid: 0, mode: 0o644 });
    const outcome = await runPass(w.deps, nixosTarget(), { cache: null }, { ...OPTS, rollout: null });
    assert.equal(outcome.kind, "failed");
    assert.equal(outcome.kind === "failed" && outcome.error.exitCode, 65);
    assert.match(outcome.kind === "failed" ? outcome.error.message : "", /is not a NixOS system \(it has no executable bin\/switch-to-configuration\)/);
    assert.deepEqual(w.nix.calls, [realise(V2)]);
    assert.equal(await w.fs.at(), V1);
  });

  it("a new kernel without a reboot window: switched, new kernel active at the next reboot, no reboot pending", async () => {
    const w = nixosWorld("6.2");
    assert.equal((await runPass(w.deps, nixosTarget(), { cache: null }, { ...OPTS, rollout: null })).kind, "deployed");
    assert.deepEqual(w.nix.calls.at(-1), `switch-to-configuration switch ${V2} build=2`);
    assert.equal(w.store.state.rebootPending, null);
    assert.ok(w.log.lines.some((l) => l.msg === "kernel, initrd, kernel-modules changed: new kernel active after the next reboot"));
  });

  it("boot: kernel, initrd and modules differ from the booted system; the reboot runs inside the window only, and once", async () => {
    const w = nixosWorld("6.2");
    const target = nixosTarget({ rebootWindow: parseRebootWindow("02:00-04:00") });
    const agent = new TargetAgent(w.deps, target, { ...OPTS, rollout: null }, { managedBy: null, newRound: () => {} });
    const reboots = () => w.nix.calls.filter((c) => c.startsWith("reboot command"));

    // noon, outside the window: made the boot default, current-system untouched, no reboot yet
    assert.equal((await agent.pass()).kind, "deployed");
    assert.deepEqual(w.nix.calls, [realise(V2), setProfile(V2), `switch-to-configuration boot ${V2} build=2`]);
    assert.equal(w.fs.links.get(CURRENT_SYSTEM), V1);
    assert.equal(w.nix.bootDefault, V2);
    assert.deepEqual(w.store.state.rebootPending, { storePath: V2, changed: ["kernel", "initrd", "kernel-modules"], since: NOON.toISOString(), failures: 0, retryAt: null });

    // a later pass still outside: nothing deployed again, no reboot
    assert.equal((await agent.pass()).kind, "unchanged");
    assert.deepEqual(reboots(), []);
    assert.notEqual(w.store.state.rebootPending, null);

    // 03:00, inside: the reboot command runs, the mark is gone before it runs
    w.clock.now = THREE_AM;
    assert.equal((await agent.pass()).kind, "unchanged");
    assert.deepEqual(reboots(), ["reboot command systemctl reboot"]);
    assert.equal(w.store.state.rebootPending, null);

    // the next pass inside the window (the machine did not go down): no second reboot
    w.clock.now = new Date(THREE_AM.getTime() + 5 * 60_000);
    await agent.pass();
    assert.deepEqual(reboots(), ["reboot command systemctl reboot"]);
    assert.equal(w.nix.calls.filter((c) => c.includes("switch-to-configuration")).length, 1);
  });

  it("--confirm-timeout: the new system cuts the machine off from Hydra; switched back to generation 1 and its switch run, V2 recorded as failed", async () => {
    const w = nixosWorld();
    // Hydra cannot be reached while the new system is the active one
    const latest = w.hydra.api.latest;
    w.deps.hydra = {
      ...w.hydra.api,
      async latest(job, which) {
        if ((await w.fs.realpath(CURRENT_SYSTEM)) === V2) throw new HydraUnavailable("https://hydra.example", "connect ECONNREFUSED 192.0.2.1:443");
        return latest(job, which);
      },
    };
    const outcome = await runPass(w.deps, nixosTarget(), { cache: null }, { ...OPTS, rollout: null, confirmTimeoutMs: 30_000 });
    assert.equal(outcome.kind, "failed");
    assert.equal(outcome.kind === "failed" && outcome.rolledBack, true);
    assert.match(outcome.kind === "failed" ? outcome.error.message : "", /no answer from Hydra within --confirm-timeout 30s after the activation/);
    assert.deepEqual(w.nix.calls, [
      realise(V2),
      setProfile(V2),
      `switch-to-configuration switch ${V2} build=2`,
      renderCommand(switchGenerationCommand(PROFILE, 1)),
      `switch-to-configuration switch ${V1} build=1`,
    ]);
    assert.equal(await w.fs.at(), V1);
    assert.equal(w.fs.links.get(CURRENT_SYSTEM), V1);
    assert.equal(w.nix.bootDefault, V1);
    assert.deepEqual(w.store.state.failed.map((f) => [f.storePath, f.buildId]), [[V2, 2]]);
    assert.equal(w.store.state.lastDeployed?.storePath, V1);
    assert.equal(w.store.state.lastError?.kind, "activation");
  });

  it("a rollback switches back into the previous system, also when its kernel is not the booted one and a window is set", async () => {
    // booted into V0; V1 (kernel 6.2) was switched to without a reboot; V2 (6.2 too) is made the boot default
    const w = nixosWorld("6.2", "6.2");
    putSystem(w.fs, V0, "6.1");
    w.fs.link(BOOTED_SYSTEM, V0);
    w.nix.failActivation = (_, what) => (what === "health check" ? "exit 1" : null);
    const target = nixosTarget({ rebootWindow: parseRebootWindow("02:00-04:00") });
    const outcome = await runPass(w.deps, target, { cache: null }, { ...OPTS, healthCheck: ["check-health"], rollout: null });
    assert.equal(outcome.kind === "failed" && outcome.rolledBack, true);
    assert.deepEqual(w.nix.calls, [
      realise(V2),
      setProfile(V2),
      `switch-to-configuration boot ${V2} build=2`,
      "health check check-health",
      renderCommand(switchGenerationCommand(PROFILE, 1)),
      `switch-to-configuration switch ${V1} build=1`,
    ]);
    assert.equal(w.fs.links.get(CURRENT_SYSTEM), V1);
    assert.equal(w.nix.bootDefault, V1);
    assert.equal(w.store.state.rebootPending, null);
  });
});
