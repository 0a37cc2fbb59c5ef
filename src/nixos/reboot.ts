// nixos: Rebooting into a new kernel or initrd when it is due and inside the reboot window.
import type { NixosTarget as Target } from "./config.js";
import { HailError } from "../errors.js";
import type { Log } from "../log.js";
import { renderCommand } from "../nix/commands.js";
import type { SystemFs } from "../profile/fs.js";
import type { ProcessRunner } from "../nix/runner.js";
import type { State } from "../state/schema.js";
import type { StateStore } from "../state/state-store.js";
import { recordError } from "../state/transitions.js";
import { rebootReasons, switchChoiceFor } from "./activation.js";
import { insideWindow } from "./reboot-window.js";
import { resolvedOrNull } from "./system.js";

export interface RebootDeps {
  runner: ProcessRunner;
  /** the booted system's link and the systems' boot links */
  fs: SystemFs;
  log: Log;
  store: StateStore;
  now: () => Date;
}

const REBOOT_COMMAND_TIMEOUT_MS = 5 * 60_000;
/** A failing reboot command runs at most this many times for one pending reboot. */
export const REBOOT_ATTEMPTS = 4;
/** The wait after the first failure; it doubles after each further one (5, 10, 20 minutes). */
export const REBOOT_RETRY_BASE_MS = 5 * 60_000;

/**
 * After a successful deployment of a `--nixos` target: remember whether the system was only
 * made the boot default (its kernel differs from the booted one and a window is set, or its
 * switch inhibitors differ; `inhibitedSwitch`: switch-to-configuration refused the switch for
 * them). The reasons go with the mark, for `status` and the metrics. A later deployment that
 * switches clears the mark.
 */
export async function noteRebootNeed(deps: Pick<RebootDeps, "fs" | "store" | "now">, target: Target, storePath: string, inhibitedSwitch = false): Promise<void> {
  if (!target.nixos) return;
  const choice = await switchChoiceFor(deps.fs, target.nixos, storePath, "deploy");
  const reasons = rebootReasons(choice);
  if (inhibitedSwitch && !reasons.includes("switch-inhibitors")) reasons.push("switch-inhibitors");
  const pending = choice.rebootPending || inhibitedSwitch;
  // a target without a window marks only inhibitors (hail never reboots it): no write for the rest
  if (!pending && !target.nixos.rebootWindow && (await deps.store.read()).rebootPending === null) return;
  const at = deps.now().toISOString();
  await deps.store.update((s) => ({
    ...s,
    rebootPending: pending ? { storePath, changed: reasons, since: s.rebootPending?.since ?? at, failures: 0, retryAt: null } : null,
  }));
}

export type RebootOutcome = { kind: "nothing-to-do" } | { kind: "waiting" } | { kind: "rebooting" } | { kind: "failed"; error: HailError };

/**
 * Runs the reboot command when a reboot is pending and the local time is inside the window.
 * The mark is cleared before the command runs: it runs once, also when the machine goes down
 * before hail hears back. A command that fails puts the mark back with a later retry time, at
 * most REBOOT_ATTEMPTS times in all (5, 10, 20 minutes apart, always inside the window); then
 * hail gives up and leaves the reboot to the operator.
 */
export async function rebootIfDue(deps: RebootDeps, target: Target): Promise<RebootOutcome> {
  const nixos = target.nixos;
  if (!nixos) return { kind: "nothing-to-do" };
  const pending = (await deps.store.read()).rebootPending;
  if (pending === null) return { kind: "nothing-to-do" };
  if ((await resolvedOrNull(deps.fs, nixos.bootedSystem)) === pending.storePath) {
    // rebooted into it already (by hand, or a reboot hail did not hear back from)
    deps.log.info(`booted into ${pending.storePath}: no reboot pending any more`);
    await deps.store.update((s) => ({ ...s, rebootPending: s.rebootPending?.storePath === pending.storePath ? null : s.rebootPending }));
    return { kind: "nothing-to-do" };
  }
  if (!nixos.rebootWindow) return { kind: "nothing-to-do" };
  const now = deps.now();
  if (!insideWindow(nixos.rebootWindow, now)) {
    deps.log.info(`reboot into ${pending.storePath} pending (${pending.changed.join(", ")} changed); waiting for ${nixos.rebootWindow.text}`);
    return { kind: "waiting" };
  }
  if (pending.retryAt !== null && Date.parse(pending.retryAt) > now.getTime()) {
    deps.log.info(`reboot into ${pending.storePath} pending; the reboot command failed ${attempts(pending.failures)}, next try from ${pending.retryAt}`);
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
    await retryLater(deps, pending, err);
    return { kind: "failed", error: err };
  }
}

type Pending = NonNullable<State["rebootPending"]>;

/** Puts the mark back for a later pass, or gives up after the last attempt; logged and recorded either way. */
async function retryLater(deps: RebootDeps, pending: Pending, err: HailError): Promise<void> {
  const failures = pending.failures + 1;
  const at = deps.now();
  const retry = failures < REBOOT_ATTEMPTS ? new Date(at.getTime() + REBOOT_RETRY_BASE_MS * 2 ** (failures - 1)).toISOString() : null;
  const next =
    retry === null
      ? `hail gives up after ${REBOOT_ATTEMPTS} attempts: reboot by hand to boot ${pending.storePath}`
      : `hail tries again from ${retry}, inside the window (attempt ${failures + 1} of ${REBOOT_ATTEMPTS}); or reboot by hand to boot ${pending.storePath}`;
  deps.log.error(`the reboot command failed (attempt ${failures} of ${REBOOT_ATTEMPTS}): ${err.message}; ${next}`, { errorKind: err.kind });
  await deps.store.update((s) => {
    const recorded = recordError(s, err.kind, `reboot command failed: ${err.message}`, at.toISOString());
    // a newer deployment may have set its own mark meanwhile: that one stands
    if (retry === null || s.rebootPending !== null) return recorded;
    return { ...recorded, rebootPending: { ...pending, failures, retryAt: retry } };
  });
}

function attempts(n: number): string {
  return n === 1 ? "once" : `${n} times`;
}
