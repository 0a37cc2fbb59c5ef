import { stat } from "node:fs/promises";
import type { NixosTarget as Target } from "./config.js";
import { renderCommand } from "../nix/commands.js";
import { switchChoiceFor, switchToConfigurationCommand } from "./activation.js";
import { checkNixosSystem } from "./system.js";

export interface NixosPreview {
  /** the switch-to-configuration command a deployment would run */
  command: string;
  /** whether a reboot would be needed, in words */
  reboot: string;
}

/**
 * What `plan` says about a `--nixos` deployment: the switch command and whether the kernel
 * changes. The boot links can only be compared once the system is in the local store
 * (`plan --fetch` realises it); until then the command is the configured action's. A closure
 * in the store that is not a NixOS system is refused (65) as `run --nixos` refuses it.
 */
export async function previewNixos(target: Target, storePath: string): Promise<NixosPreview | null> {
  const nixos = target.nixos;
  if (!nixos) return null;
  const present = await stat(storePath).then(() => true, () => false);
  if (!present) {
    return {
      command: renderCommand(switchToConfigurationCommand(storePath, nixos.action)),
      reboot: `unknown until ${storePath} is in the local store (plan --fetch realises it)`,
    };
  }
  await checkNixosSystem(storePath);
  const choice = await switchChoiceFor(nixos, storePath, "deploy");
  const changed = choice.changedBootLinks.join(", ");
  const reboot =
    choice.changedBootLinks.length === 0
      ? `no (same kernel, initrd and modules as ${nixos.bootedSystem})`
      : choice.rebootPending
        ? `yes (${changed} changed): made the boot default, then rebooted inside ${nixos.rebootWindow?.text}`
        : `yes (${changed} changed): new kernel active after the next reboot (no --reboot-window: hail does not reboot)`;
  return { command: renderCommand(switchToConfigurationCommand(storePath, choice.action)), reboot };
}
