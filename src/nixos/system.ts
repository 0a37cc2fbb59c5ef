// nixos: Checking that an output is a NixOS system closure, and which boot links changed.
import { join } from "node:path";
import { EXIT, HailError } from "../errors.js";
import type { SystemFs } from "../profile/fs.js";

/** `--nixos` on an output that is not a NixOS system closure: invalid data, exit 65. */
export class NotANixosSystem extends HailError {
  readonly exitCode = EXIT.invalidResponse;
  readonly kind = "invalid_response" as const;
}

/**
 * A NixOS system closure has a `nixos-version` file and an executable
 * `bin/switch-to-configuration`. Checked after realise and before the profile is switched.
 */
export async function checkNixosSystem(fs: SystemFs, storePath: string): Promise<void> {
  const missing: string[] = [];
  if (!(await fs.exists(join(storePath, "nixos-version")))) missing.push("nixos-version");
  if (!(await fs.executable(join(storePath, "bin", "switch-to-configuration")))) missing.push("executable bin/switch-to-configuration");
  if (missing.length > 0) {
    throw new NotANixosSystem(
      `${storePath} is not a NixOS system (it has no ${missing.join(" and no ")}); ` +
        "with --nixos the constituent must be a nixosConfigurations.HOST.config.system.build.toplevel",
    );
  }
}

/** The links whose change needs a reboot to take effect. */
export const BOOT_LINKS = ["kernel", "initrd", "kernel-modules"] as const;

/** Which of the boot links of `system` differ from those of the running (booted) system. */
export async function changedBootLinks(fs: SystemFs, system: string, bootedSystem: string): Promise<string[]> {
  const changed: string[] = [];
  for (const link of BOOT_LINKS) {
    const [next, booted] = await Promise.all([resolvedOrNull(fs, join(system, link)), resolvedOrNull(fs, join(bootedSystem, link))]);
    if (next !== booted) changed.push(link);
  }
  return changed;
}

/** Where a link leads, or null when it leads nowhere (a missing link, a dangling one, no permission). */
export function resolvedOrNull(fs: SystemFs, path: string): Promise<string | null> {
  return fs.realpath(path).catch(() => null);
}
