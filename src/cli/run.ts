import { activateCurrent, convergeInterrupted } from "../deploy/converge.js";
import type { DeployOptions } from "../deploy/deploy.js";
import type { PassDeps, PassOutcome, TargetSession } from "../deploy/pass.js";
import { runPass } from "../deploy/pass.js";
import { storeDirFromEnv } from "../deploy/store-path.js";
import { createLoop } from "../daemon/loop.js";
import { HailError } from "../errors.js";
import type { Log } from "../log.js";
import { createLog } from "../log.js";
import { readProfileTarget } from "../nix/profile.js";
import { createProcessRunner } from "../nix/runner.js";
import { createHydraClient } from "./agent.js";
import type { AgentConfig, RawOptions } from "./options.js";
import { toAgentConfig } from "./options.js";
import { lockProfile, stateStoreFor } from "./target-files.js";

/** `hail [run]`: the daemon, or one pass with --oneshot. Returns the exit code. */
export async function runCommand(raw: RawOptions): Promise<number> {
  const config = toAgentConfig(raw, process.stderr.isTTY === true);
  const log = createLog({
    format: config.logFormat,
    level: config.logLevel,
    color: config.logFormat === "pretty" && process.stderr.isTTY === true,
  }).child({ profile: config.target.profile.name });
  try {
    const deps: PassDeps = {
      hydra: await createHydraClient(config, log),
      runner: createProcessRunner(),
      log,
      store: stateStoreFor(config.target.profile, config.profilesDir, config.stateDir),
      storeDir: storeDirFromEnv(process.env),
      now: () => new Date(),
    };
    const opts: DeployOptions = {
      activateTimeoutMs: config.activateTimeoutMs,
      healthCheck: config.healthCheck,
      rollback: config.rollback,
    };
    // SPEC §7: the lock comes before any decision, so a locked profile answers 75 even when current.
    const lock = await lockProfile(config.target.profile, config.profilesDir, config.stateDir, config.oneshot ? "oneshot" : "daemon");
    try {
      return config.oneshot ? await oneshot(deps, config, opts) : await daemon(deps, config, opts);
    } finally {
      await lock.release();
    }
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    log.error(err.message, { errorKind: err.kind });
    return err.exitCode;
  }
}

async function oneshot(deps: PassDeps, config: AgentConfig, opts: DeployOptions): Promise<number> {
  const converged = await convergeInterrupted(deps, config.target, opts);
  if (converged === "failed") return 1;
  const outcome = await runPass(deps, config.target, { cache: null }, opts);
  process.stdout.write(`${describeOutcome(outcome, config)}\n`);
  return exitCodeOf(outcome);
}

/**
 * SPEC §3: 0 when the profile is at the selected build, or hail was told to leave it (a hold,
 * a change by hand); 1 when the deployment failed now or failed before and is still skipped.
 */
export function exitCodeOf(outcome: PassOutcome): number {
  switch (outcome.kind) {
    case "deployed":
      return 0;
    case "failed":
      return 1;
    case "unchanged":
      return outcome.decision.kind === "skip" && outcome.decision.cause === "failed-before" ? 1 : 0;
  }
}

function describeOutcome(outcome: PassOutcome, config: AgentConfig): string {
  const { resolution } = outcome;
  const profile = config.target.profile.name;
  switch (outcome.kind) {
    case "deployed":
      return `deployed build ${resolution.buildId} ${resolution.storePath} to ${profile}`;
    case "failed":
      return `failed to deploy build ${resolution.buildId} ${resolution.storePath} to ${profile}${outcome.rolledBack ? " (rolled back)" : ""}: ${outcome.error.message}`;
    case "unchanged":
      return outcome.decision.kind === "none"
        ? `${profile} is up to date at build ${resolution.buildId} ${resolution.storePath}`
        : `${profile} not changed: ${outcome.decision.reason}`;
  }
}

async function daemon(deps: PassDeps, config: AgentConfig, opts: DeployOptions): Promise<number> {
  const { log } = deps;
  const session: TargetSession = { cache: null };
  const loop = createLoop(() => daemonPass(deps, config, session, opts), { periodMs: config.pollPeriodMs, jitter: 0.1 });
  const stop = (signal: string) => {
    log.info(`received ${signal}: stopping after the running step`);
    loop.stop();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGUSR1", () => {
    log.info("received SIGUSR1: polling now");
    loop.pollNow();
  });
  log.info(`hail started: polling every ${config.pollPeriodMs / 1000}s`, { profilePath: config.target.profile.path });
  await activateAtStartup(deps, config, opts);
  await loop.run();
  log.info("hail stopped");
  return 0;
}

/**
 * As the original hail: the daemon re-activates what the profile holds when it starts
 * (SPEC §2.6), unless it has a crashed attempt to finish, which activates anyway.
 */
async function activateAtStartup(deps: PassDeps, config: AgentConfig, opts: DeployOptions): Promise<void> {
  if ((await convergeInterrupted(deps, config.target, opts)) !== "nothing-to-do") return;
  const current = await readProfileTarget(config.target.profile.path, deps.storeDir);
  if (current !== null) await activateCurrent(deps, config.target, current, config.activateTimeoutMs);
}

async function daemonPass(deps: PassDeps, config: AgentConfig, session: TargetSession, opts: DeployOptions): Promise<void> {
  try {
    const outcome = await runPass(deps, config.target, session, opts);
    if (outcome.kind === "failed") deps.log.error(describeOutcome(outcome, config), { errorKind: outcome.error.kind });
  } catch (err) {
    logPassError(deps.log, err);
  }
}

/** The daemon never dies from a pass: every error is logged and retried at the next poll. */
function logPassError(log: Log, err: unknown): void {
  if (err instanceof HailError) {
    log.error(err.message, { errorKind: err.kind });
  } else {
    log.error(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, { errorKind: "internal" });
  }
}
