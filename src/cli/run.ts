import type { Command } from "commander";
import type { AgentConfig } from "../agent/config.js";
import type { Lock } from "../agent/fleet.js";
import { createAgents, fleetMetrics, startTargets } from "../agent/fleet.js";
import type { PassReport } from "../agent/report.js";
import { describePass, passExitCode } from "../agent/report.js";
import type { TargetAgent } from "../agent/target-agent.js";
import { catchEarlyStop, runDaemon } from "../daemon/daemon.js";
import { surviveSignals } from "../daemon/signals.js";
import { EXIT, asHailError, combineExitCodes } from "../errors.js";
import type { Log } from "../log.js";
import { createLog } from "../log.js";
import { writeMetricsFile } from "../metrics/metrics-file.js";
import type { RawOptions } from "./options.js";
import { retireRemovedTargets } from "../agent/retire.js";
import { resolveTargets } from "./targets.js";

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
    // before anything is started: SIGHUP, SIGUSR2, SIGQUIT and SIGALRM never end a deployment half done
    surviveSignals(log, global.oneshot);
    if (!global.oneshot) catchEarlyStop();
    const agents = await createAgents(configs, rootLog, configFile);
    const { ready, codes } = await startTargets(agents, global, locks);
    if (ready.length === 0) return combineExitCodes(codes);
    // every configured target counts as present, also one left out because it is locked
    if (configFile !== null) await retireRemovedTargets(agents, configFile, global, rootLog);
    if (global.oneshot) return combineExitCodes([...codes, await oneshot(ready, global, log)]);
    return await runDaemon(ready, global, log);
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

async function oneshot(agents: TargetAgent[], global: AgentConfig, log: Log): Promise<number> {
  const codes: number[] = [];
  for (const agent of agents) agent.newRound();
  for (const agent of agents) {
    await agent.start("oneshot");
    const report: PassReport = agent.last?.kind === "converge-failed" ? agent.last : await agent.pass();
    if (report.kind !== "error" && report.kind !== "converge-failed") process.stdout.write(`${describePass(report, agent.target.profile.name)}\n`);
    codes.push(passExitCode(report));
  }
  await writeMetricsFile(global.metricsFile, () => fleetMetrics(agents), log);
  return combineExitCodes(codes);
}
