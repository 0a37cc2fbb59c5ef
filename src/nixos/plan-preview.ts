// nixos: What `plan` shows of a --nixos target: the switch command and whether a reboot follows.
import type { NixosTarget as Target } from "./config.js";
import { renderCommand } from "../nix/commands.js";
import type { SystemFs } from "../profile/fs.js";
import { describeReasons, rebootReasons, switchChoiceFor, switchToConfigurationCommand } from "./activation.js";
import { checkNixosSystem } from "./system.js";

export interface NixosPreview {
  /** the switch-to-configuration command a deployment would run */
  command: string;
  /** whether a reboot would be needed, in words */
  reboot: string;
  /** why, as `status` and the metrics name it: changed boot links, "switch-inhibitors" (empty: none, or not known yet) */
  rebootReasons: string[];
}

/**
 * What `plan` says about a `--nixos` deployment: the switch command and whether a reboot is
 * needed (the kernel changes, the switch inhibitors differ). The system can only be looked at
 * once it is in the local store (`plan --fetch` realises it); until then the command is the
 * configured action's. A closure in the store that is not a NixOS system is refused (65) as
 * `run --nixos` refuses it.
 */
export async function previewNixos(fs: SystemFs, target: Target, storePath: string): Promise<NixosPreview | null> {
  const nixos = target.nixos;
  if (!nixos) return null;
  if (!(await fs.exists(storePath))) {
    return {
      command: renderCommand(switchToConfigurationCommand(storePath, nixos.action)),
      reboot: `unknown until ${storePath} is in the local store (plan --fetch realises it)`,
      rebootReasons: [],
    };
  }
  await checkNixosSystem(fs, storePath);
  const choice = await switchChoiceFor(fs, nixos, storePath, "deploy");
  const command = renderCommand(switchToConfigurationCommand(storePath, choice.action));
  const reasons = rebootReasons(choice);
  if (reasons.length === 0) return { command, reboot: `no (same kernel, initrd and modules as ${nixos.bootedSystem})`, rebootReasons: reasons };
  const why = describeReasons(choice);
  const reboot = !choice.rebootPending
    ? `yes (${why}): new kernel active after the next reboot (no --reboot-window: hail does not reboot)`
    : nixos.rebootWindow !== null
      ? `yes (${why}): made the boot default, then rebooted inside ${nixos.rebootWindow.text}`
      : `yes (${why}): made the boot default, active after the next reboot (no --reboot-window: hail does not reboot)`;
  return { command, reboot, rebootReasons: reasons };
}
