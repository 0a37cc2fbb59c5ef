// nixos: A NixOS switch interrupted by a killed hail: what state the system is in, found after
// restart.
import { formatDuration } from "../duration.js";
import { ActivationFailed, HailError, describeError } from "../errors.js";
import type { Log } from "../log.js";
import type { Command } from "../nix/commands.js";
import type { SystemFs } from "../profile/fs.js";
import type { ProcessRunner } from "../nix/runner.js";
import { switchChoiceFor, resetFailedCommand, switchUnitName } from "./activation.js";
import type { NixosConfig } from "./config.js";
import { resolvedOrNull } from "./system.js";

/**
 * What became of the switch of a deployment whose hail stopped after switching the profile
 * (hail's own unit restarted by that very switch, a kill, a crash):
 * - "activated": the switch ran to its end; switching again would restart services again;
 * - "failed": it failed, and no hail has seen it: the deployment goes down the failure path;
 * - "not-run": no sign of it: the switch is run now (once).
 */
export type InterruptedSwitch = { kind: "activated" } | { kind: "failed"; error: HailError } | { kind: "not-run" };

export interface InterruptedSwitchDeps {
  runner: ProcessRunner;
  /** the current-system link and the systems' boot links */
  fs: SystemFs;
  log: Log;
  /** systemd runs this machine: the switch ran in the transient unit switchUnitName() */
  systemd: boolean;
  sleep?: (ms: number) => Promise<void>;
}

const POLL_MS = 1_000;
const RUNNING = new Set(["active", "activating", "deactivating", "reloading", "refreshing"]);

/**
 * Two sources, each reliable for what it says:
 * 1. Under systemd, the switch's transient unit, by its fixed name. While it is active the
 *    switch still runs (the usual case: the switch restarted hail's unit and goes on starting
 *    units): hail waits for it, up to `timeoutMs`, then stops it. A failed unit is a failure
 *    hail never saw, since hail resets the unit once it has read the result itself. A unit
 *    that succeeded is unloaded by systemd: gone, like one that never started.
 * 2. `/run/current-system` (NixosConfig.currentSystem): the activation script that `switch`
 *    runs points it at the new system, after stopping and before starting units. Once nothing
 *    runs any more, the link at the attempted system means the switch ran. A direct switch
 *    (no systemd) that an earlier run started has been waited for already (deploy/orphan.ts).
 *    `boot` never moves the link, so an interrupted `boot` is run again: it only installs the
 *    boot loader entry, and restarts nothing.
 * Left open: without systemd, the exit status of a switch whose hail died is lost; a switch
 * that moved the link and then failed to start a unit counts as run, and the health check
 * (--health-check) is what catches it.
 */
export async function interruptedSwitch(
  deps: InterruptedSwitchDeps,
  nixos: NixosConfig,
  profilePath: string,
  storePath: string,
  timeoutMs: number,
): Promise<InterruptedSwitch> {
  if (deps.systemd) {
    const failed = await settleSwitchUnit(deps, switchUnitName(profilePath), timeoutMs);
    if (failed !== null) return { kind: "failed", error: failed };
  }
  const { action } = await switchChoiceFor(deps.fs, nixos, storePath, "deploy");
  if (action !== "switch") return { kind: "not-run" };
  const current = await resolvedOrNull(deps.fs, nixos.currentSystem);
  return current === storePath ? { kind: "activated" } : { kind: "not-run" };
}

/** Waits while the unit runs; returns the failure a failed unit records (and resets it), or null. */
async function settleSwitchUnit(deps: InterruptedSwitchDeps, unit: string, timeoutMs: number): Promise<HailError | null> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let unitState = await showUnit(deps, unit);
  if (unitState === null) return null;
  if (RUNNING.has(unitState.ActiveState ?? "")) {
    deps.log.warn(`the switch an earlier run started (systemd unit ${unit}) is still running; waiting up to ${formatDuration(timeoutMs)} for it`);
    for (let waited = 0; unitState !== null && RUNNING.has(unitState.ActiveState ?? ""); waited += POLL_MS) {
      if (waited >= timeoutMs) {
        await deps.runner.runNix({ file: "systemctl", args: ["stop", "--", unit] }).catch(() => undefined);
        await deps.runner.runNix(resetFailedCommand(unit)).catch(() => undefined);
        return new ActivationFailed(`the switch started by an earlier run (systemd unit ${unit}) still ran after ${formatDuration(timeoutMs)}; hail stopped it`);
      }
      await sleep(POLL_MS);
      unitState = await showUnit(deps, unit);
    }
  }
  if (unitState?.ActiveState !== "failed") return null;
  await deps.runner.runNix(resetFailedCommand(unit)).catch(() => undefined);
  const status = unitState.ExecMainStatus ? `, exit status ${unitState.ExecMainStatus}` : "";
  return new ActivationFailed(
    `the switch started by an earlier run failed (systemd unit ${unit}: result ${unitState.Result ?? "unknown"}${status}); see journalctl -u ${unit}`,
  );
}

export function showUnitCommand(unit: string): Command {
  return { file: "systemctl", args: ["show", "--property=LoadState,ActiveState,Result,ExecMainStatus", "--", unit] };
}

/** The unit's properties; null when systemd cannot be asked (then /run/current-system alone decides). */
async function showUnit(deps: InterruptedSwitchDeps, unit: string): Promise<Record<string, string> | null> {
  try {
    const out = await deps.runner.captureNix(showUnitCommand(unit));
    return Object.fromEntries(out.split("\n").flatMap((line) => (line.includes("=") ? [[line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1).trim()]] : [])));
  } catch (err) {
    deps.log.warn(`cannot ask systemd about the switch unit ${unit}: ${describeError(err)}; judging by the current-system link alone`);
    return null;
  }
}
