import type { Command } from "commander";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { HydraApi } from "../deploy/fetch.js";
import type { PassOutcome } from "../deploy/pass.js";
import { SharedRound } from "../deploy/shared-hydra.js";
import { storeDirFromEnv } from "../deploy/store-path.js";
import { createLoop, firstPollDelay } from "../daemon/loop.js";
import { startMetricsServer } from "../metrics/metrics-server.js";
import { PollRequests } from "../daemon/poll-requests.js";
import type { PassReport } from "../agent/target-agent.js";
import { TargetAgent } from "../agent/target-agent.js";
import { EXIT, HailError, UsageError, asHailError, combineExitCodes } from "../errors.js";
import type { Log } from "../log.js";
import { createLog } from "../log.js";
import { renderMetrics, type DaemonMetrics } from "../metrics/exposition.js";
import { nodeProfileFs } from "../nix/profile-fs.js";
import { liveProcesses } from "../deploy/orphan.js";
import { createProcessRunner } from "../nix/runner.js";
import { NotANixosSystem } from "../nixos/system.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { createHydraClient } from "../agent/hydra-client.js";
import type { AgentConfig, RawOptions } from "./options.js";
import { retireRemovedTargets } from "./retire.js";
import { lockProfile, stateStoreFor } from "./target-files.js";
import { resolveTargets } from "./targets.js";

type Lock = Awaited<ReturnType<typeof lockProfile>>;

/** `hail [run]`: the daemon, or one pass with --oneshot, for one target or a config file's. */
export async function runCommand(raw: RawOptions & { config?: string }, cmd: Command | null = null): Promise<number> {
  let log: Log | null = null;
  const locks: Lock[] = [];
  try {
    const { configs, configFile } = await resolveTargets(raw, cmd);
    const global = configs[0] as AgentConfig; // resolveTargets never returns an empty list
    const rootLog = createLog({
      format: global.logFormat,
      level: global.logLevel,
      color: global.logFormat === "pretty" && process.stderr.isTTY === true,
    });
    log = configs.length === 1 ? rootLog.child({ profile: global.target.profile.name }) : rootLog;
    // A daemon told to stop while it is still starting (locks, convergence, retiring) stops
    // as soon as its loop exists, with exit 0, instead of dying of the signal.
    if (!global.oneshot) for (const signal of STOP_SIGNALS) process.on(signal, noteEarlyStop);
    const agents = await createAgents(configs, rootLog, configFile);
    const { ready, codes } = await startTargets(agents, global, locks);
    if (ready.length === 0) return combineExitCodes(codes);
    // every configured target counts as present, also one left out because it is locked
    if (configFile !== null) await retireRemovedTargets(agents, configFile, global, rootLog);
    if (global.oneshot) return combineExitCodes([...codes, await oneshot(ready, global, log)]);
    return await daemon(ready, global, log, () => earlyStop);
  } catch (caught) {
    // before the log exists, and for a bug, the CLI entry prints the error
    const err = asHailError(caught);
    if (err.exitCode === EXIT.internal || log === null) throw caught;
    log.error(err.message, { errorKind: err.kind });
    return err.exitCode;
  } finally {
    for (const lock of locks) await lock.release();
  }
}

/**
 * Locks and state come before any decision (SPEC §7): a locked profile answers 75 even when
 * current, and a damaged state file stops its target (64) before anything runs. With several
 * targets, such a target is left out and the others go on: one failure never stops the rest.
 */
async function startTargets(agents: TargetAgent[], global: AgentConfig, locks: Lock[]): Promise<{ ready: TargetAgent[]; codes: number[] }> {
  const ready: TargetAgent[] = [];
  const codes: number[] = [];
  for (const agent of agents) {
    let lock: Lock | null = null;
    try {
      lock = await lockProfile(agent.target.profile, agent.profilesDir, global.stateDir, global.oneshot ? "oneshot" : "daemon");
      await agent.load();
      locks.push(lock);
      ready.push(agent);
    } catch (caught) {
      const err = asHailError(caught);
      if (err.exitCode === EXIT.internal) throw caught;
      await lock?.release();
      const leftOut = agents.length > 1 ? "; the other targets go on without it" : "";
      agent.deps.log.error(`${err.message}${leftOut}`, { errorKind: err.kind });
      codes.push(err.exitCode);
    }
  }
  return { ready, codes };
}

/** One agent per target; targets on the same Hydra share one client and one round of answers. */
async function createAgents(configs: AgentConfig[], log: Log, configFile: string | null): Promise<TargetAgent[]> {
  const rounds = new Map<string, SharedRound>();
  const runner = createProcessRunner();
  const storeDir = storeDirFromEnv(process.env);
  const agents: TargetAgent[] = [];
  for (const config of configs) {
    const base = config.target.source.job.baseUrl;
    let round = rounds.get(base);
    if (round === undefined) {
      round = new SharedRound(await createHydraClient(config, log));
      rounds.set(base, round);
    }
    const hydra: HydraApi = round;
    agents.push(
      new TargetAgent(
        {
          hydra,
          runner,
          fs: nodeProfileFs,
          processes: liveProcesses,
          log: log.child({ profile: config.target.profile.name }),
          store: stateStoreFor(config.target.profile, config.profilesDir, config.stateDir),
          storeDir,
          now: () => new Date(),
        },
        config.target,
        {
          activateTimeoutMs: config.activateTimeoutMs,
          healthCheck: config.healthCheck,
          rollback: config.rollback,
          rollout: config.rollout,
          allowDowngrade: config.allowDowngrade,
          minFreeBytes: config.minFreeBytes,
          keepGenerations: config.keepGenerations,
          hooks: config.hooks,
          confirmTimeoutMs: config.confirmTimeoutMs,
        },
        { profilesDir: config.profilesDir, managedBy: configFile, newRound: () => round.newRound() },
      ),
    );
  }
  return agents;
}

async function oneshot(agents: TargetAgent[], global: AgentConfig, log: Log): Promise<number> {
  const codes: number[] = [];
  for (const agent of agents) agent.newRound();
  for (const agent of agents) {
    await agent.start("oneshot");
    const report: PassReport = agent.last?.kind === "converge-failed" ? agent.last : await agent.pass();
    if (report.kind !== "error" && report.kind !== "converge-failed") process.stdout.write(`${describeOutcome(report, agent.target.profile.name)}\n`);
    codes.push(exitCodeOf(report));
  }
  await writeMetricsFile(global.metricsFile, agents, log);
  return combineExitCodes(codes);
}

/**
 * SPEC §3: 0 when the profile is at the selected build, or hail was told to leave it (a hold,
 * a change by hand); 1 when the deployment failed now or failed before and is still skipped;
 * 75 while a staged rollout has not reached this host yet (nothing deployable here yet).
 */
export function exitCodeOf(report: PassReport): number {
  switch (report.kind) {
    case "error":
      return report.error.exitCode;
    case "converge-failed":
      return EXIT.failed;
    case "deployed":
      return EXIT.ok;
    case "failed":
      return report.error instanceof NotANixosSystem ? report.error.exitCode : EXIT.failed;
    case "unchanged":
      if (report.decision.kind === "wait") return EXIT.notReady;
      return report.decision.kind === "skip" && report.decision.cause === "failed-before" ? EXIT.failed : EXIT.ok;
  }
}

function oneLine(text: string): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .join(" | ");
}

function describeOutcome(outcome: PassOutcome, profile: string): string {
  const { resolution } = outcome;
  switch (outcome.kind) {
    case "deployed":
      return `deployed build ${resolution.buildId} ${resolution.storePath} to ${profile}`;
    case "failed":
      // one line: nix's output tail goes to the log, not into the result line
      return `failed to deploy build ${resolution.buildId} ${resolution.storePath} to ${profile}${outcome.rolledBack ? " (rolled back)" : ""}: ${oneLine(outcome.error.message)}`;
    case "unchanged":
      return outcome.decision.kind === "up-to-date"
        ? `${profile} is up to date at build ${resolution.buildId} ${resolution.storePath}`
        : `${profile} not changed: ${outcome.decision.reason}`;
  }
}

const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;
let earlyStop: string | null = null;
function noteEarlyStop(signal: string): void {
  earlyStop = signal;
}

async function daemon(agents: TargetAgent[], global: AgentConfig, log: Log, stoppedEarly: () => string | null): Promise<number> {
  const requests = new PollRequests(log, global.pollMinIntervalMs);
  const daemonMetrics = (): DaemonMetrics => ({ pollRequestsRejected: requests.rejectedTotal });
  // Synchronous: nothing may come between the start and the signal handlers below.
  const profilesExist = agents.every((a) => existsSync(a.target.profile.path));
  const firstDelayMs = process.env.HAIL_NO_START_SPREAD === "1" ? 0 : firstPollDelay(global.pollPeriodMs, profilesExist, Math.random);
  const loop = createLoop(
    async () => {
      for (const agent of agents) agent.newRound();
      // A failure in one target never stops the others: a pass never throws.
      for (const agent of agents) {
        const report = await agent.pass();
        if (report.kind === "failed") {
          agent.deps.log.error(describeOutcome(report, agent.target.profile.name), { errorKind: report.error.kind });
        }
      }
      await writeMetricsFile(global.metricsFile, agents, log, daemonMetrics());
    },
    { periodMs: global.pollPeriodMs, jitter: 0.1, firstDelayMs, minPollIntervalMs: global.pollMinIntervalMs },
  );
  const stop = (signal: string) => {
    log.info(`received ${signal}: stopping after the running step`);
    loop.stop();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  for (const signal of STOP_SIGNALS) process.off(signal, noteEarlyStop);
  const early = stoppedEarly();
  if (early !== null) stop(early);
  const pollNow = (why: string) => {
    const answer = loop.pollNow();
    requests.note(why, answer);
    return answer;
  };
  process.on("SIGUSR1", () => pollNow("received SIGUSR1"));
  const server = global.metricsListen
    ? await startMetricsServer(global.metricsListen.host, global.metricsListen.port, {
        render: () => renderMetrics(snapshots(agents), daemonMetrics()),
        health: () => health(agents),
        pollNow: () => pollNow("POST /poll"),
      }).catch((err: unknown) => {
        throw listenError(err, global.metricsListen);
      })
    : null;
  log.info(`hail started: polling every ${global.pollPeriodMs / 1000}s`, {
    profiles: agents.map((a) => a.target.profile.name).join(","),
    metricsUrl: server?.url,
  });
  if (firstDelayMs > 0) {
    log.info(`first poll in ${(firstDelayMs / 1000).toFixed(1)}s: spread over the period so a fleet restarted at once does not hit Hydra in step`);
  }
  try {
    for (const agent of agents) await agent.start("daemon");
    await loop.run();
  } finally {
    await server?.close();
  }
  log.info("hail stopped");
  return 0;
}

/** --metrics-listen that cannot listen is a configuration error (64) naming the address. */
function listenError(err: unknown, listen: { host: string; port: number } | null): unknown {
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  const address = `${listen?.host ?? ""}:${listen?.port ?? ""}`;
  if (code === "EADDRINUSE") return new UsageError(`--metrics-listen ${address}: the port is in use; choose another port or stop what listens on it`);
  if (code === "EADDRNOTAVAIL") return new UsageError(`--metrics-listen ${address}: this machine has no such address; give one of its addresses`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new UsageError(`--metrics-listen ${address}: unknown host ${listen?.host ?? ""}; give an IP address or a resolvable name`);
  if (code === "EACCES") return new UsageError(`--metrics-listen ${address}: not allowed to listen there (a port below 1024 needs privileges)`);
  return err;
}

function snapshots(agents: TargetAgent[]) {
  return agents.map((a) => a.metricsSnapshot()).filter((m) => m !== null);
}

function health(agents: TargetAgent[]): { ok: boolean; body: unknown } {
  const profiles = Object.fromEntries(
    agents.map((a) => [a.target.profile.name, { ok: a.healthy, lastCheckAt: a.metricsSnapshot()?.metrics.lastCheckAt ?? null, error: a.lastError() }]),
  );
  const ok = agents.every((a) => a.healthy);
  return { ok, body: { status: ok ? "ok" : "failing", profiles } };
}

/** Written atomically: the textfile collector must never read half a file. */
async function writeMetricsFile(file: string | null, agents: TargetAgent[], log: Log, daemonMetrics?: DaemonMetrics): Promise<void> {
  if (file === null) return;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, renderMetrics(snapshots(agents), daemonMetrics));
  } catch (err) {
    log.error(`cannot write the metrics file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
