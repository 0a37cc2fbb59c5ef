// deploy: --home-manager: checking a Home Manager generation and running its own `activate`.
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { EXIT, HailError } from "../errors.js";
import type { Command } from "../nix/commands.js";
import { xdgStateHome } from "../xdg.js";

/**
 * `--home-manager`: the constituent is a Home Manager activation package
 * (`homeConfigurations.USER.activationPackage`). Its generation is a profile like any other,
 * but its activation is `$out/activate` at the top of the store path, not `bin/activate`.
 */

/** `--home-manager` on an output that is not a Home Manager generation: invalid data, exit 65. */
export class NotAHomeManagerGeneration extends HailError {
  readonly exitCode = EXIT.invalidResponse;
  readonly kind = "invalid_response" as const;
}

/**
 * A Home Manager generation has an executable `activate` and a `home-path` (the user's
 * packages) at its top. Checked after realise and before the profile is switched, as
 * `--nixos` checks a system: a wrong constituent never moves the profile.
 */
export async function checkHomeManagerGeneration(storePath: string): Promise<void> {
  const missing: string[] = [];
  try {
    await access(join(storePath, "activate"), constants.X_OK);
  } catch {
    missing.push("executable activate");
  }
  try {
    await stat(join(storePath, "home-path"));
  } catch {
    missing.push("home-path");
  }
  if (missing.length > 0) {
    throw new NotAHomeManagerGeneration(
      `${storePath} is not a Home Manager generation (it has no ${missing.join(" and no ")} at its top); ` +
        "with --home-manager the constituent must be a homeConfigurations.USER.activationPackage",
    );
  }
}

/**
 * The activation of a generation: `STOREPATH/activate`. `storePath` is the one the profile's
 * trusted links lead to (profile-trust.ts, runnableStorePath), so only a store path runs.
 * HOME_MANAGER_BACKUP_EXT reaches it with the rest of hail's environment.
 */
export function homeManagerActivateCommand(storePath: string): Command {
  return { file: `${storePath}/activate`, args: [] };
}

/**
 * Where Home Manager keeps its generations, and so the profile `--home-manager` switches when
 * no `--profile` is given: `$XDG_STATE_HOME/nix/profiles/home-manager`, XDG_STATE_HOME being
 * `~/.local/state` when unset or not absolute (the XDG spec ignores a relative one).
 */
export function defaultHomeManagerProfile(env: NodeJS.ProcessEnv, home: () => string = homedir): string {
  return join(xdgStateHome(env, home), "nix", "profiles", "home-manager");
}
