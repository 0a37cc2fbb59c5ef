import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { PassOutcome } from "../deploy/pass.js";
import { storeDirFromEnv } from "../deploy/store-path.js";
import { createLoop } from "../daemon/loop.js";
import { startMetricsServer } from "../daemon/metrics-server.js";
import type { PassReport } from "../daemon/target-agent.js";
import { TargetAgent } from "../daemon/target-agent.js";
import { HailError } from "../errors.js";
import type { Log } from "../log.js";
import { createLog } from "../log.js";
import { renderMetrics } from "../metrics/exposition.js";
import { createProcessRunner } from "../nix/runner.js";
import { writeFileAtomic } from "../state/atomic-write.js";
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
    const agent = new TargetAgent(
      {
        hydra: await createHydraClient(config, log),
        runner: createProcessRunner(),
        log,
        store: stateStoreFor(config.target.profile, config.profilesDir, config.stateDir),
        storeDir: storeDirFromEnv(process.env),
        now: () => new Date(),
      },
      config.target,
      { activateTimeoutMs: config.activateTimeoutMs, healthCheck: config.healthCheck, rollback: config.rollback, rollout: config.rollout },
    );
    // SPEC §7: the lock comes before any decision, so a locked profile answers 75 even when current.
    const lock = await lockProfile(config.target.profile, config.profilesDir, config.stateDir, config.oneshot ? "oneshot" : "daemon");
    try {
      // Reading the state first stops hail on a damaged state file before anything runs.
      await agent.load();
      return config.oneshot ? await oneshot(agent, config, log) : await daemon([agent], config, log);
    } finally {
      await lock.release();
    }
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    log.error(err.message, { errorKind: err.kind });
    return err.exitCode;
  }
}

async function oneshot(agent: TargetAgent, config: AgentConfig, log: Log): Promise<number> {
  await agent.start("oneshot");
  const report: PassReport = agent.last?.kind === "converge-failed" ? agent.last : await agent.pass();
  await writeMetricsFile(config.metricsFile, [agent], log);
  if (report.kind === "outcome") process.stdout.write(`${describeOutcome(report.outcome, config)}\n`);
  return exitCodeOf(report);
}

/**
 * SPEC §3: 0 when the profile is at the selected build, or hail was told to leave it (a hold,
 * a change by hand); 1 when the deployment failed now or failed before and is still skipped;
 * 75 while a staged rollout has not reached this host yet (nothing deployable here yet).
 */
export function exitCodeOf(report: PassReport): number {
  if (report.kind === "error") return report.error.exitCode;
  if (report.kind === "converge-failed") return 1;
  const { outcome } = report;
  switch (outcome.kind) {
    case "deployed":
      return 0;
    case "failed":
      return 1;
    case "unchanged":
      if (outcome.decision.kind === "wait") return 75;
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

async function daemon(agents: TargetAgent[], config: AgentConfig, log: Log): Promise<number> {
  const loop = createLoop(
    async () => {
      for (const agent of agents) {
        const report = await agent.pass();
        if (report.kind === "outcome" && report.outcome.kind === "failed") {
          agent.deps.log.error(describeOutcome(report.outcome, config), { errorKind: report.outcome.error.kind });
        }
      }
      await writeMetricsFile(config.metricsFile, agents, log);
    },
    { periodMs: config.pollPeriodMs, jitter: 0.1 },
  );
  const stop = (signal: string) => {
    log.info(`received ${signal}: stopping after the running step`);
    loop.stop();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  const pollNow = (why: string) => {
    log.info(`${why}: polling now`);
    loop.pollNow();
  };
  process.on("SIGUSR1", () => pollNow("received SIGUSR1"));
  const server = config.metricsListen
    ? await startMetricsServer(config.metricsListen.host, config.metricsListen.port, {
        render: () => renderMetrics(snapshots(agents)),
        health: () => health(agents),
        pollNow: () => pollNow("POST /poll"),
      })
    : null;
  log.info(`hail started: polling every ${config.pollPeriodMs / 1000}s`, {
    profilePath: config.target.profile.path,
    metricsUrl: server?.url,
  });
  try {
    for (const agent of agents) await agent.start("daemon");
    await loop.run();
  } finally {
    await server?.close();
  }
  log.info("hail stopped");
  return 0;
}

function snapshots(agents: TargetAgent[]) {
  return agents.map((a) => a.metricsSnapshot()).filter((m) => m !== null);
}

function health(agents: TargetAgent[]): { ok: boolean; body: unknown } {
  const profiles = Object.fromEntries(
    agents.map((a) => [
      a.target.profile.name,
      {
        ok: a.healthy,
        lastCheckAt: a.metricsSnapshot()?.metrics.lastCheckAt ?? null,
        error: a.last?.kind === "error" ? { kind: a.last.error.kind, message: a.last.error.message } : a.last?.kind === "outcome" && a.last.outcome.kind === "failed" ? { kind: a.last.outcome.error.kind, message: a.last.outcome.error.message } : null,
      },
    ]),
  );
  const ok = agents.every((a) => a.healthy);
  return { ok, body: { status: ok ? "ok" : "failing", profiles } };
}

/** Written atomically: the textfile collector must never read half a file. */
async function writeMetricsFile(file: string | null, agents: TargetAgent[], log: Log): Promise<void> {
  if (file === null) return;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, renderMetrics(snapshots(agents)));
  } catch (err) {
    log.error(`cannot write the metrics file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
