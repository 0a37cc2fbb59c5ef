// deploy: --on-success and --on-failure: the operator's commands run after a deployment, with its
// outcome in the environment.
import { HailError, describeError } from "../errors.js";
import type { Log } from "../log.js";
import type { ProcessRunner } from "../nix/runner.js";
import { hailEnv } from "./hail-env.js";

export interface Hooks {
  onSuccess: string[] | null;
  onFailure: string[] | null;
}

export interface HookEvent {
  profilePath: string;
  result: "success" | "failed";
  storePath: string;
  buildId: number;
  error: string | null;
}

/**
 * --on-success / --on-failure after a deployment attempt. A hook that fails or hangs is
 * logged and counted, and never changes the deployment's result. Returns 1 when it failed.
 */
export async function runHook(runner: ProcessRunner, log: Log, hooks: Hooks, event: HookEvent, timeoutMs: number): Promise<number> {
  const argv = event.result === "success" ? hooks.onSuccess : hooks.onFailure;
  const [file, ...args] = argv ?? [];
  if (file === undefined) return 0;
  const name = event.result === "success" ? "on-success hook" : "on-failure hook";
  const hookLog = log.child({ source: name });
  try {
    await runner.runActivation({ file, args }, name, {
      env: { ...hailEnv(event.profilePath, event.storePath, event.buildId), HAIL_RESULT: event.result, HAIL_ERROR: event.error ?? "" },
      timeoutMs,
      onLine: (line) => hookLog.info(line),
    });
    return 0;
  } catch (caught) {
    // whatever went wrong with the hook, the deployment's result stands
    const message = caught instanceof HailError ? caught.message : `${name} failed: ${describeError(caught)}`;
    log.warn(`${message}; the deployment's result stands`, { errorKind: "hook" });
    return 1;
  }
}
