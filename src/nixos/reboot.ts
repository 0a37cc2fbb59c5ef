import type { Target } from "../deploy/target.js";
import { HailError } from "../errors.js";
import type { Log } from "../log.js";
import { renderCommand } from "../nix/commands.js";
import type { ProcessRunner } from "../nix/runner.js";
import type { StateStore } from "../state/state-store.js";
import { recordError } from "../state/transitions.js";
import { switchChoiceFor } from "./activation.js";
import { insideWindow } from "./reboot-window.js";

export interface RebootDeps {
  runner: ProcessRunner;
  log: Log;
  store: StateStore;
  now: () => Date;
}

const REBOOT_COMMAND_TIMEOUT_MS = 5 * 60_000;

/**
 * After a successful deployment of a `--nixos` target with a reboot window: remember whether
 * the system was only made the boot default (its kernel differs from the booted one). A later
 * deployment back to the booted kernel clears the mark.
 */
export async function noteRebootNeed(deps: Pick<RebootDeps, "store" | "now">, target: Target, storePath: string): Promise<void> {
  if (!target.nixos?.rebootWindow) return;
  const choice = await switchChoiceFor(target.nixos, storePath, "deploy");
  const at = deps.now().toISOString();
  await deps.store.update((s) => ({
    ...s,
    rebootPending: choice.rebootPending ? { storePath, changed: choice.changedBootLinks, since: s.rebootPending?.since ?? at } : null,
  }));
}

export type RebootOutcome = { kind: "nothing-to-do" } | { kind: "waiting" } | { kind: "rebooting" } | { kind: "failed"; error: HailError };

/**
 * Runs the reboot command when a reboot is pending and the local time is inside the window.
 * The mark is cleared before the command runs: it runs once, also when the machine goes down
 * before hail hears back. A failing command is logged and recorded, not retried.
 */
export async function rebootIfDue(deps: RebootDeps, target: Target): Promise<RebootOutcome> {
  const nixos = target.nixos;
  if (!nixos?.rebootWindow) return { kind: "nothing-to-do" };
  const pending = (await deps.store.read()).rebootPending;
  if (pending === null) return { kind: "nothing-to-do" };
  if (!insideWindow(nixos.rebootWindow, deps.now())) {
    deps.log.info(`reboot into ${pending.storePath} pending (${pending.changed.join(", ")} changed); waiting for ${nixos.rebootWindow.text}`);
    return { kind: "waiting" };
  }
  await deps.store.update((s) => ({ ...s, rebootPending: null }));
  const [file, ...args] = nixos.rebootCommand;
  if (file === undefined) return { kind: "nothing-to-do" };
  const command = { file, args };
  deps.log.warn(`rebooting into ${pending.storePath} (${pending.changed.join(", ")} changed): ${renderCommand(command)}`);
  const log = deps.log.child({ source: "reboot-command" });
  try {
    await deps.runner.runActivation(command, "reboot command", { env: {}, timeoutMs: REBOOT_COMMAND_TIMEOUT_MS, onLine: (l) => log.info(l) });
    return { kind: "rebooting" };
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    deps.log.error(`the reboot command failed: ${err.message}; reboot by hand to boot ${pending.storePath}`, { errorKind: err.kind });
    await deps.store.update((s) => recordError(s, err.kind, `reboot command failed: ${err.message}`, deps.now().toISOString()));
    return { kind: "failed", error: err };
  }
}
