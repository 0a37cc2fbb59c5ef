// nixos: --nixos activation: choosing switch, boot or reboot, and the switch-to-configuration
// command.
import { resolve } from "node:path";
import type { Log } from "../log.js";
import type { Command } from "../nix/commands.js";
import { activateCommand } from "../nix/commands.js";
import type { SystemFs } from "../profile/fs.js";
import type { ProcessOptions, ProcessRunner } from "../nix/runner.js";
import type { NixosTarget as Target } from "./config.js";
import type { NixosAction, NixosConfig } from "./config.js";
import type { InhibitorsChange } from "./inhibitors.js";
import { describeChange, inhibitorsChange } from "./inhibitors.js";
import { changedBootLinks } from "./system.js";

/**
 * "deploy": activating the build just switched to (a kernel change may turn `switch` into
 * `boot`); "restore": going back to a generation that ran before (rollback, converge), which
 * is always `switch`: that system is known to have worked with the running kernel.
 */
export type ActivationPurpose = "deploy" | "restore";

export interface SwitchChoice {
  action: NixosAction;
  /** kernel, initrd or kernel-modules links that differ from the booted system */
  changedBootLinks: string[];
  /** the new system's switch-inhibitors differ from the booted system's: it cannot be switched into */
  inhibitors: InhibitorsChange | null;
  /**
   * `boot` was chosen and the system waits for a reboot: a kernel change with a reboot window
   * (hail reboots inside it), or inhibitors that differ (hail reboots inside the window, if any)
   */
  rebootPending: boolean;
}

/** Why a reboot is needed, as the state file, `status` and the metrics name it: the changed boot links and "switch-inhibitors". */
export function rebootReasons(choice: SwitchChoice): string[] {
  return choice.inhibitors === null ? choice.changedBootLinks : [...choice.changedBootLinks, "switch-inhibitors"];
}

/**
 * The action for a system. Inhibitors that differ mean `boot` whatever the window says:
 * `switch` would be refused, and hail never sets NIXOS_NO_CHECK to force it. A kernel change
 * with a reboot window means `boot`, then a reboot.
 */
export function chooseAction(nixos: NixosConfig, changed: string[], inhibitors: InhibitorsChange | null, purpose: ActivationPurpose): SwitchChoice {
  const choice = { changedBootLinks: changed, inhibitors };
  if (purpose === "restore") return { ...choice, action: "switch", rebootPending: false };
  if (inhibitors !== null) return { ...choice, action: "boot", rebootPending: true };
  if (changed.length > 0 && nixos.rebootWindow !== null) return { ...choice, action: "boot", rebootPending: true };
  return { ...choice, action: nixos.action, rebootPending: false };
}

export async function switchChoiceFor(fs: SystemFs, nixos: NixosConfig, storePath: string, purpose: ActivationPurpose): Promise<SwitchChoice> {
  const [changed, inhibitors] = await Promise.all([changedBootLinks(fs, storePath, nixos.bootedSystem), inhibitorsChange(fs, storePath, nixos.bootedSystem)]);
  return chooseAction(nixos, changed, inhibitors, purpose);
}

export function switchToConfigurationCommand(storePath: string, action: NixosAction): Command {
  return { file: `${storePath}/bin/switch-to-configuration`, args: [action] };
}

/**
 * The switch as a transient systemd unit, outside hail's own service cgroup: when the new
 * system restarts or stops hail's unit, systemd kills that unit's cgroup, and a switch running
 * inside it would die half done. `--wait` keeps hail waiting for the result and returns the
 * switch's exit status. The unit has a fixed name per profile (switchUnitName): a hail
 * restarted mid-switch finds it by that name, waits while it runs and reads a failure from
 * it (interrupted-switch.ts). Hence no `--collect`: a failed unit stays loaded, with its
 * result, until hail has read it and reset it (runSwitchUnit); a successful one is unloaded by
 * systemd at once. The name also keeps two switches of one profile from ever overlapping
 * (systemd refuses a second unit of that name while one runs). The switch's output goes to
 * the journal, not through a pipe to hail: a pipe whose reader (hail) is stopped would kill
 * the switch at its next line. The variables switch-to-configuration reads, and hail's own,
 * are passed along (a transient unit does not inherit hail's environment).
 */
export function systemdRunCommand(inner: Command, env: Record<string, string>, unit: string): Command {
  return {
    file: "systemd-run",
    args: [
      "--wait",
      `--unit=${unit}`,
      "--no-ask-password",
      "--service-type=exec",
      "--description=hail: switch-to-configuration",
      "--setenv=LOCALE_ARCHIVE",
      "--setenv=NIXOS_INSTALL_BOOTLOADER",
      ...Object.entries(env).map(([k, v]) => `--setenv=${k}=${v}`),
      "--",
      inner.file,
      ...inner.args,
    ],
  };
}

/** The transient unit of a profile's switch: `hail-switch-` and a hash of the profile's absolute path. */
export function switchUnitName(profilePath: string): string {
  // node:crypto loads here, not at start: `hail plan` never switches
  const hash = process.getBuiltinModule("node:crypto").createHash("sha256").update(resolve(profilePath)).digest("hex");
  return `hail-switch-${hash.slice(0, 16)}.service`;
}

/** Forgets a failed switch unit (and its result) once hail has read it; nothing to do when there is none. */
export function resetFailedCommand(unit: string): Command {
  return { file: "systemctl", args: ["reset-failed", "--", unit] };
}

/** systemd is the init system (the check sd_booted() makes); elsewhere the switch runs directly. */
export function systemdRunning(fs: SystemFs): Promise<boolean> {
  return fs.exists("/run/systemd/system");
}

/** What choosing and running a system's switch needs: the processes, the systems' files, the log. */
export interface SwitchDeps {
  runner: ProcessRunner;
  fs: SystemFs;
  log: Log;
}

/**
 * The one place the activation command is chosen: `PROFILE/bin/activate` for an app, the
 * system's `bin/switch-to-configuration ACTION` for `--nixos` (through systemd-run when
 * systemd runs this machine).
 */
export async function activationCommandFor(
  deps: Omit<SwitchDeps, "runner">,
  target: Target,
  storePath: string,
  purpose: ActivationPurpose,
  env: Record<string, string>,
): Promise<Command> {
  if (!target.nixos) return activateCommand(target.profile.path);
  const choice = await switchChoiceFor(deps.fs, target.nixos, storePath, purpose);
  if (purpose === "deploy") logChoice(deps.log, target.nixos, storePath, choice);
  return systemCommand(deps.fs, target, switchToConfigurationCommand(storePath, choice.action), env);
}

/** A switch-to-configuration command as it runs: through systemd-run when systemd runs this machine. */
export async function systemCommand(fs: SystemFs, target: Target, command: Command, env: Record<string, string>): Promise<Command> {
  return (await systemdRunning(fs)) ? systemdRunCommand(command, env, switchUnitName(target.profile.path)) : command;
}

/** "kernel, initrd changed; switch inhibitors differ (booted: …, new: …)", or "" when no reboot is needed. */
export function describeReasons(choice: SwitchChoice): string {
  return [
    ...(choice.changedBootLinks.length > 0 ? [`${choice.changedBootLinks.join(", ")} changed`] : []),
    ...(choice.inhibitors !== null ? [describeChange(choice.inhibitors)] : []),
  ].join("; ");
}

function logChoice(log: Log, nixos: NixosConfig, storePath: string, choice: SwitchChoice): void {
  const why = describeReasons(choice);
  if (why === "") return;
  if (choice.rebootPending && nixos.rebootWindow !== null) {
    log.info(`${why}: making ${storePath} the boot default; hail reboots inside ${nixos.rebootWindow.text}`);
  } else if (choice.rebootPending) {
    log.warn(`${why}: making ${storePath} the boot default; it becomes active at the next reboot (no --reboot-window: reboot by hand)`);
  } else {
    log.info(`${why}: new kernel active after the next reboot`);
  }
}

/**
 * Runs an activation command; a systemd switch unit is reset before (a failed one left by an
 * earlier run would block the name) and after (hail has its result now: a failed unit that
 * stays loaded means a switch whose result no hail has seen, interrupted-switch.ts).
 */
export async function runActivationCommand(runner: ProcessRunner, command: Command, opts: ProcessOptions): Promise<void> {
  const unit = switchUnitOf(command);
  if (unit === undefined) return runner.runActivation(command, "activation", opts);
  const reset = () => runner.runNix(resetFailedCommand(unit)).catch(() => undefined);
  await reset();
  try {
    await runner.runActivation(command, "activation", opts);
  } finally {
    await reset();
  }
}

/** The transient unit a command runs in (systemdRunCommand), or undefined when it runs directly. */
export function switchUnitOf(command: Command): string | undefined {
  return command.file === "systemd-run" ? command.args.find((a) => a.startsWith("--unit="))?.slice("--unit=".length) : undefined;
}
