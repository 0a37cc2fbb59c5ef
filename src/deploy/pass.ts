import { HailError } from "../errors.js";
import type { Log } from "../log.js";
import { readProfileTarget } from "../nix/profile.js";
import type { ProcessRunner } from "../nix/runner.js";
import type { Decision, DeployMemory } from "./decide.js";
import { decide } from "./decide.js";
import type { DeployOptions } from "./deploy.js";
import { deploy } from "./deploy.js";
import type { HydraApi, ResolutionCache } from "./fetch.js";
import { fetchResolution } from "./fetch.js";
import type { Resolution } from "./resolve.js";
import type { Target } from "./target.js";

export interface PassDeps {
  hydra: HydraApi;
  runner: ProcessRunner;
  log: Log;
  storeDir: string;
  now: () => Date;
}

/** What a target carries from one pass to the next. */
export interface TargetSession {
  cache: ResolutionCache | null;
  memory: DeployMemory;
}

export type PassOutcome =
  | { kind: "deployed"; resolution: Resolution }
  | { kind: "failed"; resolution: Resolution; error: HailError; rolledBack: boolean }
  | { kind: "unchanged"; resolution: Resolution; decision: Exclude<Decision, { kind: "deploy" }> };

/** Resolve → check → decide → deploy, once (SPEC §2). Hydra errors propagate as typed errors. */
export async function runPass(
  deps: PassDeps,
  target: Target,
  session: TargetSession,
  opts: DeployOptions,
): Promise<PassOutcome> {
  session.cache = await fetchResolution(
    deps.hydra,
    target.source,
    { output: target.output, storeDir: deps.storeDir },
    session.cache,
  );
  const { resolution } = session.cache;
  const log = deps.log.child({
    gateBuildId: resolution.gateBuildId ?? undefined,
    buildId: resolution.buildId,
    storePath: resolution.storePath,
  });
  const current = await readProfileTarget(target.profile.path, deps.storeDir);
  const decision = decide(resolution, current, session.memory, deps.now());
  switch (decision.kind) {
    case "none":
      log.debug("profile is up to date");
      return { kind: "unchanged", resolution, decision };
    case "held":
    case "skip":
      log.info(`not deploying: ${decision.reason}`);
      return { kind: "unchanged", resolution, decision };
    case "deploy":
      break;
    default:
      return assertNever(decision);
  }
  log.info(`deploying build ${resolution.buildId} to ${target.profile.path}`, { from: current });
  const result = await deploy({ runner: deps.runner, log, storeDir: deps.storeDir }, target, resolution, opts);
  const at = deps.now().toISOString();
  if (result.kind === "deployed") {
    session.memory = { ...session.memory, lastDeployed: { storePath: resolution.storePath, buildId: resolution.buildId } };
    log.info(`deployed build ${resolution.buildId}`);
    return { kind: "deployed", resolution };
  }
  session.memory = {
    ...session.memory,
    failed: [...session.memory.failed, { storePath: resolution.storePath, reason: result.error.message, at }],
  };
  return { kind: "failed", resolution, error: result.error, rolledBack: result.rolledBack };
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
