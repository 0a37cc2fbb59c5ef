// nixos: Running a NixOS activation, and a switch refused by its inhibitors becoming the boot
// default instead.
import { ActivationFailed, describeError } from "../errors.js";
import type { Log } from "../log.js";
import type { Command } from "../nix/commands.js";
import type { ProcessOptions, ProcessRunner } from "../nix/runner.js";
import type { ActivationPurpose, SwitchDeps } from "./activation.js";
import { activationCommandFor, runActivationCommand, switchToConfigurationCommand, switchUnitOf, systemCommand } from "./activation.js";
import type { NixosTarget as Target } from "./config.js";
import { inhibitorRefusal } from "./inhibitors.js";

/** `inhibitedSwitch`: switch-to-configuration refused the switch for its inhibitors and the system was made the boot default instead. */
export interface ActivationOutcome {
  inhibitedSwitch: boolean;
}

/** The lines of a switch kept to judge a refusal: the inhibitors' text is short and comes last. */
const KEPT_LINES = 200;

/**
 * Runs a target's activation. For a `--nixos` deployment hail compared the inhibitors before
 * (activation.ts), and a `switch` should not be refused; should it be all the same (a race, a
 * format hail did not foresee, /run/current-system's inhibitors that differ from the booted
 * system's), the refusal is no failure of the build: the system is made the boot default, as
 * for inhibitors hail saw itself, and waits for its reboot. NIXOS_NO_CHECK is never set.
 */
export async function runTargetActivation(
  deps: SwitchDeps,
  target: Target,
  storePath: string,
  purpose: ActivationPurpose,
  opts: ProcessOptions,
): Promise<ActivationOutcome> {
  const { runner, log } = deps;
  const command = await activationCommandFor(deps, target, storePath, purpose, opts.env);
  const switching = target.nixos !== undefined && purpose === "deploy" && command.args.at(-1) === "switch";
  const kept: string[] = [];
  const onLine = (line: string) => {
    kept.push(line);
    if (kept.length > KEPT_LINES) kept.shift();
    opts.onLine(line);
  };
  const startedAt = new Date();
  try {
    await runActivationCommand(runner, command, { ...opts, onLine });
    return { inhibitedSwitch: false };
  } catch (err) {
    if (!switching || !(err instanceof ActivationFailed)) throw err;
    const unit = switchUnitOf(command);
    const output = unit === undefined ? kept.join("\n") : await journalOf(runner, log, unit, startedAt);
    if (!inhibitorRefusal(output)) throw err;
    log.warn(
      `switch-to-configuration refused to switch into ${storePath} because its switch inhibitors differ from the running system's (${err.message}); ` +
        "making it the boot default instead: it becomes active at the next reboot (hail never sets NIXOS_NO_CHECK)",
    );
    await runActivationCommand(runner, await systemCommand(deps.fs, target, switchToConfigurationCommand(storePath, "boot"), opts.env), opts);
    return { inhibitedSwitch: true };
  }
}

/** What the switch unit printed since `since` (under systemd it writes to the journal, not to hail). */
async function journalOf(runner: ProcessRunner, log: Log, unit: string, since: Date): Promise<string> {
  const seconds = Math.floor(since.getTime() / 1000) - 1;
  try {
    return await runner.captureNix(journalCommand(unit, seconds));
  } catch (err) {
    log.warn(`cannot read the switch's output from the journal (${describeError(err)}): taking its failure as a failure`);
    return "";
  }
}

export function journalCommand(unit: string, sinceEpochSeconds: number): Command {
  return { file: "journalctl", args: [`--unit=${unit}`, `--since=@${sinceEpochSeconds}`, "--output=cat", "--no-pager", "--quiet"] };
}
