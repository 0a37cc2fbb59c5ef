// daemon: `hail run` as a daemon: the poll loop, its signals, the metrics server, and a clean stop.
import { existsSync } from "node:fs";
import type { AgentConfig } from "../agent/config.js";
import { fleetHealth, fleetMetrics } from "../agent/fleet.js";
import { describePass } from "../agent/report.js";
import type { TargetAgent } from "../agent/target-agent.js";
import { formatDuration } from "../duration.js";
import { EXIT, UsageError } from "../errors.js";
import type { Log } from "../log.js";
import type { DaemonMetrics } from "../metrics/exposition.js";
import { writeMetricsFile } from "../metrics/metrics-file.js";
import { startMetricsServer } from "../metrics/metrics-server.js";
import { createLoop, firstPollDelay } from "./loop.js";
import { PollRequests } from "./poll-requests.js";
import { answerSignal, sigusr1Disabled, sigusr1DisabledWarning } from "./signals.js";

/** SIGQUIT too: its conventional meaning is "quit", and dying of it would leave a deployment half done. */
const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT"] as const;
let earlyStop: string | null = null;
function noteEarlyStop(signal: string): void {
  earlyStop = signal;
}

/**
 * A daemon told to stop while it is still starting (locks, convergence, retiring) stops as
 * soon as its loop exists, with exit 0, instead of dying of the signal.
 */
export function catchEarlyStop(): void {
  for (const signal of STOP_SIGNALS) answerSignal(signal, noteEarlyStop);
}

/** The poll loop over the targets, until SIGTERM, SIGINT or SIGQUIT; with --metrics-listen, the server. */
export async function runDaemon(agents: TargetAgent[], global: AgentConfig, log: Log): Promise<number> {
  const requests = new PollRequests(log, global.pollMinIntervalMs);
  const daemonMetrics = (): DaemonMetrics => ({ pollRequestsRejected: requests.rejectedTotal });
  // Synchronous: nothing may come between the start and the signal handlers below.
  const profilesExist = agents.every((a) => existsSync(a.target.profile.path));
  const firstDelayMs = global.startSpread ? firstPollDelay(global.pollPeriodMs, profilesExist, Math.random) : 0;
  const loop = createLoop(
    async () => {
      for (const agent of agents) agent.newRound();
      // A failure in one target never stops the others: a pass never throws.
      for (const agent of agents) {
        const report = await agent.pass();
        if (report.kind === "failed") {
          agent.deps.log.error(describePass(report, agent.target.profile.name), { errorKind: report.error.kind });
        }
      }
      await writeMetricsFile(global.metricsFile, () => fleetMetrics(agents, daemonMetrics()), log);
    },
    { periodMs: global.pollPeriodMs, jitter: 0.1, firstDelayMs, minPollIntervalMs: global.pollMinIntervalMs },
  );
  const stop = (signal: string) => {
    log.info(`received ${signal}: stopping after the running step`);
    loop.stop();
  };
  for (const signal of STOP_SIGNALS) answerSignal(signal, stop);
  if (earlyStop !== null) stop(earlyStop);
  const pollNow = (why: string) => {
    const answer = loop.pollNow();
    requests.note(why, answer);
    return answer;
  };
  // on top of the bundle's own SIGUSR1 listener (src/daemon/signals.ts says why it stays)
  answerSignal("SIGUSR1", () => pollNow("received SIGUSR1"));
  if (sigusr1Disabled(process.execArgv, process.env.NODE_OPTIONS)) log.warn(sigusr1DisabledWarning(process.versions.node));
  const server = global.metricsListen
    ? await startMetricsServer(global.metricsListen.host, global.metricsListen.port, {
        render: () => fleetMetrics(agents, daemonMetrics()),
        health: () => fleetHealth(agents),
        pollNow: () => pollNow("POST /poll"),
      }, log).catch((err: unknown) => {
        throw listenError(err, global.metricsListen);
      })
    : null;
  log.info(`hail started: polling every ${formatDuration(global.pollPeriodMs)}`, {
    profiles: agents.map((a) => a.target.profile.name).join(","),
    metricsUrl: server?.url,
  });
  if (firstDelayMs > 0) {
    log.info(`first poll in ${formatDuration(Math.max(1000, Math.round(firstDelayMs / 1000) * 1000))}: spread over the period so a fleet restarted at once does not hit Hydra in step`);
  }
  try {
    for (const agent of agents) await agent.start("daemon");
    await loop.run();
  } finally {
    await server?.close();
  }
  log.info("hail stopped");
  return EXIT.ok;
}

/** --metrics-listen that cannot listen is a configuration error (64) naming the address. */
function listenError(err: unknown, listen: { host: string; port: number } | null): unknown {
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  const address = `${listen?.host ?? ""}:${listen?.port ?? ""}`;
  if (code === "EADDRINUSE") return new UsageError(`--metrics-listen ${address}: the port is in use; choose another port or stop what listens on it`);
  if (code === "EADDRNOTAVAIL") return new UsageError(`--metrics-listen ${address}: this machine has no such address`, "give one of its addresses");
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new UsageError(`--metrics-listen ${address}: unknown host ${listen?.host ?? ""}`, "give an IP address or a resolvable name");
  if (code === "EACCES") return new UsageError(`--metrics-listen ${address}: not allowed to listen there (a port below 1024 needs privileges)`);
  return err;
}
