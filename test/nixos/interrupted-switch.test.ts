// What a hail restarted mid-switch concludes about the switch an earlier run started
// (src/nixos/interrupted-switch.ts), with systemctl faked: this machine runs no systemd.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ActivationFailed } from "../../src/errors.js";
import { runActivationCommand, switchUnitName } from "../../src/nixos/activation.js";
import type { NixosConfig } from "../../src/nixos/config.js";
import { interruptedSwitch } from "../../src/nixos/interrupted-switch.js";
import type { Command } from "../../src/nix/commands.js";
import { renderCommand } from "../../src/nix/commands.js";
import type { ProcessRunner } from "../../src/nix/runner.js";
import { NixCommandFailed } from "../../src/errors.js";
import { createLog } from "../../src/log.js";
import { nodeProfileFs } from "../../src/profile/fs.js";

const log = createLog({ format: "json", level: "error", color: false });
const PROFILE = "/nix/var/nix/profiles/system";
const UNIT = switchUnitName(PROFILE);

/** A runner whose `systemctl show` answers from `states`, one per call (the last one repeats). */
function fakeSystemd(states: (string | null)[]) {
  const ran: string[] = [];
  let shown = 0;
  const runner: ProcessRunner = {
    async runNix(cmd: Command) {
      ran.push(renderCommand(cmd));
    },
    async captureNix(cmd: Command) {
      ran.push(renderCommand(cmd));
      const state = states[Math.min(shown++, states.length - 1)] ?? null;
      if (state === null) throw new NixCommandFailed("`systemctl show` failed (exit 1)");
      return state;
    },
    async runActivation(cmd: Command) {
      ran.push(renderCommand(cmd));
      if (cmd.args.includes("fail")) throw new ActivationFailed("exit 4");
    },
  };
  return { runner, ran };
}

const unit = (active: string, result = "success", status = "0") => `LoadState=loaded\nActiveState=${active}\nResult=${result}\nExecMainStatus=${status}\n`;
const GONE = "LoadState=not-found\nActiveState=inactive\nResult=success\nExecMainStatus=0\n";

describe("a switch interrupted by hail's restart", () => {
  let dir: string;
  let system: string;
  let nixos: NixosConfig;
  const sleeps: number[] = [];
  const deps = (runner: ProcessRunner, systemd = true) => ({ runner, fs: nodeProfileFs, log, systemd, sleep: async (ms: number) => void sleeps.push(ms) });

  before(async () => {
    dir = await realpath(await mkdtemp(path.join(tmpdir(), "hail-switch-")));
    system = path.join(dir, "nixos-system-host-2");
    await mkdir(system);
    await mkdir(path.join(dir, "booted-system"));
    nixos = { action: "switch", rebootWindow: null, rebootCommand: ["true"], bootedSystem: path.join(dir, "booted-system"), currentSystem: path.join(dir, "current-system") };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("a switch still running is waited for; once its unit is gone and current-system is the new system, it ran", async () => {
    await symlink(system, nixos.currentSystem);
    const { runner, ran } = fakeSystemd([unit("active"), unit("activating"), GONE]);
    sleeps.length = 0;
    assert.deepEqual(await interruptedSwitch(deps(runner), nixos, PROFILE, system, 60_000), { kind: "activated" });
    assert.equal(sleeps.length, 2, "asked again until the unit was gone");
    assert.ok(ran.every((c) => !c.includes("switch-to-configuration")), "never switches");
    await rm(nixos.currentSystem);
  });

  it("a failed unit is a failure no hail saw: reported with its result, and reset", async () => {
    const { runner, ran } = fakeSystemd([unit("failed", "exit-code", "4")]);
    const outcome = await interruptedSwitch(deps(runner), nixos, PROFILE, system, 60_000);
    assert.equal(outcome.kind, "failed");
    assert.ok(outcome.kind === "failed" && outcome.error instanceof ActivationFailed);
    assert.match(outcome.kind === "failed" ? outcome.error.message : "", new RegExp(`${UNIT}: result exit-code, exit status 4\\); see journalctl -u ${UNIT}`));
    assert.ok(ran.includes(`systemctl reset-failed -- ${UNIT}`));
  });

  it("a switch still running after the activation timeout is stopped and fails", async () => {
    const { runner, ran } = fakeSystemd([unit("active")]);
    sleeps.length = 0;
    const outcome = await interruptedSwitch(deps(runner), nixos, PROFILE, system, 3_000);
    assert.equal(outcome.kind, "failed");
    assert.equal(sleeps.length, 3);
    assert.ok(ran.includes(`systemctl stop -- ${UNIT}`));
  });

  it("no unit and current-system elsewhere: the switch never ran, so it runs now", async () => {
    const { runner } = fakeSystemd([GONE]);
    assert.deepEqual(await interruptedSwitch(deps(runner), nixos, PROFILE, system, 60_000), { kind: "not-run" });
  });

  it("without systemd (or when systemctl cannot answer) current-system alone decides", async () => {
    await symlink(system, nixos.currentSystem);
    const { runner, ran } = fakeSystemd([null]);
    assert.deepEqual(await interruptedSwitch(deps(runner), nixos, PROFILE, system, 60_000), { kind: "activated" });
    assert.deepEqual(await interruptedSwitch(deps(runner, false), nixos, PROFILE, system, 60_000), { kind: "activated" });
    assert.equal(ran.length, 1, "systemctl is asked only under systemd");
    // `boot` never moves current-system: an interrupted one is run again (it restarts nothing)
    assert.deepEqual(await interruptedSwitch(deps(runner, false), { ...nixos, action: "boot" }, PROFILE, system, 60_000), { kind: "not-run" });
    await rm(nixos.currentSystem);
  });

  it("hail resets its switch unit before and after a switch it runs itself, a failed one too", async () => {
    const { runner, ran } = fakeSystemd([GONE]);
    const cmd = { file: "systemd-run", args: ["--wait", `--unit=${UNIT}`, "--", "/nix/store/x/bin/switch-to-configuration", "fail"] };
    await assert.rejects(runActivationCommand(runner, cmd, { env: {}, timeoutMs: 1000, onLine: () => {} }), ActivationFailed);
    assert.deepEqual(ran, [`systemctl reset-failed -- ${UNIT}`, renderCommand(cmd), `systemctl reset-failed -- ${UNIT}`]);
  });
});
