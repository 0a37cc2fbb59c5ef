import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JobUrl } from "../../src/hydra/job-url.js";
import { HydraUnavailable, InvalidResponse, NotReady, UsageError } from "../../src/errors.js";
import { chooseAction, switchToConfigurationCommand, switchUnitName, systemdRunCommand } from "../../src/nixos/activation.js";
import type { NixosConfig } from "../../src/nixos/config.js";
import type { InhibitorsChange } from "../../src/nixos/inhibitors.js";
import { confirmTimeoutChoice, nixosChoice } from "../../src/nixos/config.js";
import { confirmReachable, isHttpAnswer, NotConfirmed } from "../../src/deploy/confirm-timeout.js";
import { insideWindow, parseRebootWindow } from "../../src/nixos/reboot-window.js";
import { renderCommand } from "../../src/nix/commands.js";
import type { Target } from "../../src/resolve/target.js";
import { createLog } from "../../src/log.js";
import { renderMetrics } from "../../src/metrics/exposition.js";
import { layerOptions, parseConfigFile } from "../../src/cli/config-file.js";
import { toAgentConfig } from "../../src/cli/options.js";
import { execa } from "execa";

const at = (hh: number, mm: number) => new Date(2026, 0, 15, hh, mm);

describe("reboot window", () => {
  const cases: [string, number, number, boolean][] = [
    ["02:00-04:00", 2, 0, true],
    ["02:00-04:00", 3, 59, true],
    ["02:00-04:00", 4, 0, false],
    ["02:00-04:00", 1, 59, false],
    ["23:30-01:00", 23, 45, true],
    ["23:30-01:00", 0, 30, true],
    ["23:30-01:00", 1, 0, false],
    ["23:30-01:00", 12, 0, false],
  ];
  for (const [text, hh, mm, inside] of cases) {
    it(`${text} at ${hh}:${String(mm).padStart(2, "0")} → ${inside ? "inside" : "outside"}`, () => {
      assert.equal(insideWindow(parseRebootWindow(text), at(hh, mm)), inside);
    });
  }
  for (const bad of ["2-4", "24:00-01:00", "02:60-03:00", "02:00-02:00", "", "02:00"]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseRebootWindow(bad), UsageError));
  }
});

describe("nixos options", () => {
  it("defaults: switch, systemctl reboot, /run/booted-system, /run/current-system, no window", () => {
    assert.deepEqual(nixosChoice({ nixos: true }), {
      action: "switch",
      rebootWindow: null,
      rebootCommand: ["systemctl", "reboot"],
      bootedSystem: "/run/booted-system",
      currentSystem: "/run/current-system",
    });
  });
  it("the current system is read beside the booted system given", () => {
    assert.equal(nixosChoice({ nixos: true, bootedSystem: "/tmp/lab/booted-system" })?.currentSystem, "/tmp/lab/current-system");
  });
  it("splits --reboot-command into words without a shell", () => {
    assert.deepEqual(nixosChoice({ nixos: true, rebootWindow: "02:00-03:00", rebootCommand: "/bin/echo 'a b' $HOME" })?.rebootCommand, [
      "/bin/echo",
      "a b",
      "$HOME",
    ]);
  });
  it("off without --nixos", () => assert.equal(nixosChoice({}), null));
  const refused: [string, Parameters<typeof nixosChoice>[0]][] = [
    ["--nixos-action without --nixos", { nixosAction: "boot" }],
    ["--reboot-window without --nixos", { rebootWindow: "02:00-03:00" }],
    ["--booted-system without --nixos", { bootedSystem: "/x" }],
    ["an unknown action", { nixos: true, nixosAction: "test" }],
    ["--reboot-command without a window", { nixos: true, rebootCommand: "reboot" }],
  ];
  for (const [what, raw] of refused) it(`refuses ${what}`, () => assert.throws(() => nixosChoice(raw), UsageError));
  it("--confirm-timeout: off, a duration, never zero or beyond 7 days", () => {
    assert.equal(confirmTimeoutChoice({}), null);
    assert.equal(confirmTimeoutChoice({ confirmTimeout: "2m" }), 120_000);
    assert.throws(() => confirmTimeoutChoice({ confirmTimeout: "0s" }), UsageError);
    assert.throws(() => confirmTimeoutChoice({ confirmTimeout: "8d" }), /the limit is 7 days/);
  });
});

describe("activation choice", () => {
  const base: NixosConfig = { action: "switch", rebootWindow: null, rebootCommand: ["systemctl", "reboot"], bootedSystem: "/run/booted-system", currentSystem: "/run/current-system" };
  const windowed = { ...base, rebootWindow: parseRebootWindow("02:00-04:00") };
  const differ = { booted: { bytes: 2, sha256: "a".repeat(64) }, next: null };
  const table: [string, NixosConfig, string[], InhibitorsChange | null, "deploy" | "restore", string, boolean][] = [
    ["same kernel", windowed, [], null, "deploy", "switch", false],
    ["kernel change with a window", windowed, ["kernel"], null, "deploy", "boot", true],
    ["kernel change without a window", base, ["initrd"], null, "deploy", "switch", false],
    ["--nixos-action boot", { ...base, action: "boot" }, [], null, "deploy", "boot", false],
    ["a rollback always switches", { ...windowed, action: "boot" }, ["kernel"], null, "restore", "switch", false],
    ["switch inhibitors that differ, with a window", windowed, [], differ, "deploy", "boot", true],
    ["switch inhibitors that differ, without a window", base, [], differ, "deploy", "boot", true],
    ["a rollback with inhibitors that differ still switches", windowed, [], differ, "restore", "switch", false],
  ];
  for (const [what, config, changed, inhibitors, purpose, action, pending] of table) {
    it(`${what} → ${action}${pending ? ", reboot pending" : ""}`, () => {
      const choice = chooseAction(config, changed, inhibitors, purpose);
      assert.equal(choice.action, action);
      assert.equal(choice.rebootPending, pending);
    });
  }
  it("the switch runs outside hail's cgroup through systemd-run --wait, in a unit named after the profile", () => {
    const unit = switchUnitName("/nix/var/nix/profiles/system");
    assert.match(unit, /^hail-switch-[0-9a-f]{16}\.service$/);
    assert.equal(switchUnitName("/nix/var/nix/profiles/../profiles/system"), unit, "one profile, one unit, however it is spelled");
    assert.notEqual(switchUnitName("/nix/var/nix/profiles/other"), unit);
    const cmd = systemdRunCommand(switchToConfigurationCommand("/nix/store/abc-nixos-system", "switch"), { HAIL_PROFILE: "/nix/var/nix/profiles/system" }, unit);
    assert.equal(
      renderCommand(cmd),
      `systemd-run --wait --unit=${unit} --no-ask-password --service-type=exec '--description=hail: switch-to-configuration' ` +
        "--setenv=LOCALE_ARCHIVE --setenv=NIXOS_INSTALL_BOOTLOADER --setenv=HAIL_PROFILE=/nix/var/nix/profiles/system " +
        "-- /nix/store/abc-nixos-system/bin/switch-to-configuration switch",
    );
  });
});

describe("confirmation", () => {
  it("any HTTP answer counts, a connection failure or timeout does not", () => {
    assert.equal(isHttpAnswer({ ok: true }), true);
    assert.equal(isHttpAnswer({ ok: false, error: new NotReady("404") }), true);
    assert.equal(isHttpAnswer({ ok: false, error: new InvalidResponse("u", "html") }), true);
    assert.equal(isHttpAnswer({ ok: false, error: new HydraUnavailable("u", "HTTP 503 (3 attempts)") }), true);
    assert.equal(isHttpAnswer({ ok: false, error: new HydraUnavailable("u", "ECONNREFUSED (3 attempts)") }), false);
    assert.equal(isHttpAnswer({ ok: false, error: new HydraUnavailable("u", "no complete answer within 1s") }), false);
  });

  const job: JobUrl = { url: "http://h/job/p/j/g", baseUrl: "http://h", project: "p", jobset: "j", job: "g" };
  const target = { source: { kind: "gate", job, constituent: "c" } } as unknown as Target;
  const log = createLog({ format: "json", level: "error", color: false });

  it("retries until Hydra answers", async () => {
    let clock = 0;
    let calls = 0;
    const hydra = {
      latest: async () => {
        calls += 1;
        if (calls < 3) throw new HydraUnavailable("u", "ECONNREFUSED");
        return { id: 7, job: target.source.job };
      },
      getBuild: async () => assert.fail(),
      getConstituents: async () => assert.fail(),
    };
    await confirmReachable({ hydra, log, now: () => new Date(clock), sleep: async (ms) => void (clock += ms) }, target, 10_000);
    assert.equal(calls, 3);
  });

  it("gives up with NotConfirmed once the timeout passed", async () => {
    let clock = 0;
    const hydra = {
      latest: async () => {
        throw new HydraUnavailable("u", "ECONNREFUSED");
      },
      getBuild: async () => assert.fail(),
      getConstituents: async () => assert.fail(),
    };
    await assert.rejects(
      confirmReachable({ hydra, log, now: () => new Date(clock), sleep: async (ms) => void (clock += ms) }, target, 3_000),
      NotConfirmed,
    );
    assert.ok(clock >= 3_000);
  });
});

describe("hail_reboot_pending", () => {
  const metrics = {
    upToDate: true,
    lastCheckAt: null,
    lastSuccessAt: null,
    deployments: { success: 1, failed: 0 },
    rollbacks: 0,
    errors: {},
    hookFailures: 0,
    knownBadSkips: 0,
  };
  it("is rendered for --nixos targets only, with its reasons, and promtool accepts it", async () => {
    const text = renderMetrics([
      { profile: "system", metrics, deployedBuildId: 7, rebootPending: true, rebootReasons: ["switch-inhibitors"] },
      { profile: "app", metrics, deployedBuildId: 8 },
    ]);
    assert.match(text, /^# TYPE hail_reboot_pending gauge$/m);
    assert.deepEqual(text.split("\n").filter((l) => l.startsWith("hail_reboot_pending{")), ['hail_reboot_pending{profile="system"} 1']);
    assert.deepEqual(text.split("\n").filter((l) => l.startsWith("hail_reboot_pending_reason{")), [
      'hail_reboot_pending_reason{profile="system",reason="kernel"} 0',
      'hail_reboot_pending_reason{profile="system",reason="initrd"} 0',
      'hail_reboot_pending_reason{profile="system",reason="kernel-modules"} 0',
      'hail_reboot_pending_reason{profile="system",reason="switch-inhibitors"} 1',
    ]);
    const r = await execa("promtool", ["check", "metrics"], { input: text, reject: false, all: true });
    assert.equal(r.exitCode, 0, r.all);
    assert.doesNotMatch(renderMetrics([{ profile: "app", metrics, deployedBuildId: 8 }]), /hail_reboot_pending/);
  });
});

describe("config file", () => {
  it("takes nixos, nixosAction, rebootWindow, rebootCommand, bootedSystem and confirmTimeout per target", () => {
    const text = JSON.stringify({
      confirmTimeout: "2m",
      targets: [
        {
          profile: "system",
          gateJob: "https://hydra.example/job/p/j/release_gate",
          constituent: "web1",
          nixos: true,
          nixosAction: "boot",
          rebootWindow: "01:00-02:00",
          rebootCommand: "systemctl kexec",
          bootedSystem: "/run/booted-system",
        },
      ],
    });
    const defaults = { profilesDir: "/nix/var/nix/profiles", output: "out", stateDir: "/var/lib/hail", logLevel: "info", timeout: "30s", rolloutWindow: "0" };
    const [raw] = layerOptions(parseConfigFile(text, "hail.json"), defaults, () => false, "hail.json");
    assert.ok(raw);
    const config = toAgentConfig(raw, false);
    assert.equal(config.confirmTimeoutMs, 120_000);
    assert.equal(config.target.nixos?.action, "boot");
    assert.deepEqual(config.target.nixos?.rebootCommand, ["systemctl", "kexec"]);
    assert.equal(config.target.nixos?.rebootWindow?.text, "01:00-02:00");
  });
  it("refuses an unknown nixosAction", () => {
    const text = JSON.stringify({ targets: [{ profile: "system", jobUri: "https://h/job/p/j/x", nixos: true, nixosAction: "test" }] });
    assert.throws(() => parseConfigFile(text, "hail.json"), /nixosAction/);
  });
});
