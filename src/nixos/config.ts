// nixos: How a --nixos target activates its system and when it reboots: the parsed options.
import { dirname, join } from "node:path";
import { splitCommandLine } from "../command-line.js";
import { DURATION_LIMITS, parseBoundedDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import type { RebootWindow } from "./reboot-window.js";
import { parseRebootWindow } from "./reboot-window.js";

export type NixosAction = "switch" | "boot";

/** How a `--nixos` target activates its system and when it reboots. */
export interface NixosConfig {
  action: NixosAction;
  rebootWindow: RebootWindow | null;
  rebootCommand: string[];
  bootedSystem: string;
  /**
   * The system whose activation ran last (`/run/current-system`): switch-to-configuration
   * points it at the new system. By default `current-system` beside the booted system, so
   * that `--booted-system` in a test moves both.
   */
  currentSystem: string;
}

/**
 * What nixos/ needs of a deployment target: the profile and its --nixos settings. deploy/'s
 * Target has both; nixos/ sits below deploy/ and so takes this shape rather than importing it.
 */
export interface NixosTarget {
  profile: { name: string; path: string };
  nixos?: NixosConfig;
}

export interface RawNixosOptions {
  nixos?: boolean;
  nixosAction?: string;
  rebootWindow?: string;
  rebootCommand?: string;
  bootedSystem?: string;
  currentSystem?: string;
  confirmTimeout?: string;
}

const DEFAULT_REBOOT_COMMAND = "systemctl reboot";
const DEFAULT_BOOTED_SYSTEM = "/run/booted-system";

/** --nixos and the flags that only make sense with it; a flag without --nixos is a usage error. */
export function nixosChoice(raw: RawNixosOptions): NixosConfig | null {
  if (raw.nixos !== true) {
    const stray = (["nixosAction", "rebootWindow", "rebootCommand", "bootedSystem", "currentSystem"] as const).find((k) => raw[k] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --nixos`);
    return null;
  }
  const action = raw.nixosAction ?? "switch";
  if (action !== "switch" && action !== "boot") throw new UsageError(`--nixos-action ${action}: use switch or boot`);
  if (raw.rebootCommand !== undefined && raw.rebootWindow === undefined) {
    throw new UsageError("--reboot-command needs --reboot-window HH:MM-HH:MM: when may hail reboot?");
  }
  const rebootCommand = splitCommandLine(raw.rebootCommand ?? DEFAULT_REBOOT_COMMAND, "--reboot-command");
  if (rebootCommand.length === 0) throw new UsageError("--reboot-command must not be empty");
  const bootedSystem = raw.bootedSystem ?? DEFAULT_BOOTED_SYSTEM;
  if (bootedSystem === "") throw new UsageError("--booted-system must not be empty");
  return {
    action,
    rebootWindow: raw.rebootWindow === undefined ? null : parseRebootWindow(raw.rebootWindow),
    rebootCommand,
    bootedSystem,
    currentSystem: raw.currentSystem ?? join(dirname(bootedSystem), "current-system"),
  };
}

/** --confirm-timeout (any mode): null when off. */
export function confirmTimeoutChoice(raw: RawNixosOptions): number | null {
  if (raw.confirmTimeout === undefined) return null;
  return parseBoundedDuration(raw.confirmTimeout, "--confirm-timeout", DURATION_LIMITS.timer);
}
