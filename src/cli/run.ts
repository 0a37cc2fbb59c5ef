// cli: `hail [run]`: the daemon, or one pass with --oneshot, for one target or a config file's.
import type { Command } from "commander";
import type { AgentConfig } from "../agent/config.js";
import type { Lock } from "../agent/fleet.js";
import { createAgents, fleetMetrics, startTargets } from "../agent/fleet.js";
import type { PassReport } from "../agent/report.js";
import { describePass, passExitCode } from "../agent/report.js";
import type { TargetAgent } from "../agent/target-agent.js";
import { catchEarlyStop, runDaemon } from "../daemon/daemon.js";
import { surviveSignals } from "../daemon/signals.js";
import { CommandFailed, EXIT, asHailError, combineExitCodes } from "../errors.js";
import type { Log } from "../log.js";
import { createLog } from "../log.js";
import { writeMetricsFile } from "../metrics/metrics-file.js";
import type { RawOptions } from "./options.js";
import { retireRemovedTargets } from "../agent/retire.js";
import { targetsFromOptions } from "./targets.js";
import type { TargetFailure } from "./failure-line.js";
import { givenDirFlags, pasteable, targetFailureOf, targetsFailed } from "./failure-line.js";
import { passFailure } from "./pass-failure.js";
import { existsSync } from "node:fs";
import { dirname } from "node:path";

/** `hail [run]`: the daemon, or one pass with --oneshot, for one target or a config file's. */
export async function runCommand(raw: RawOptions & { config?: string }, cmd: Command | null = null): Promise<number> {
  let log: Log | null = null;
  const locks: Lock[] = [];
  try {
    const { configs, configFile } = await targetsFromOptions(raw, cmd);
    const global = configs[0] as AgentConfig; // targetsFromOptions never returns an empty list
    const rootLog = createLog({
      format: global.logFormat,
      level: global.logLevel,
      color: global.logFormat === "pretty" && process.stderr.isTTY === true,
    });
    log = configs.length === 1 ? rootLog.child({ profile: global.target.profile.name }) : rootLog;
    // before anything is started: SIGHUP, SIGUSR2, SIGQUIT and SIGALRM never end a deployment half done
    surviveSignals(log, global.oneshot);
    if (!global.oneshot) catchEarlyStop();
    noteMissingProfileDirs(configs, log);
    const agents = await createAgents(configs, rootLog, configFile);
    const { ready, codes, errors } = await startTargets(agents, global, locks);
    const dirs = givenDirFlags(raw, typedIn(cmd));
    const failed = (failures: TargetFailure[], code: number) =>
      targetsFailed(failures, agents.length, code, configFile === null ? null : `run ${pasteable(["status", ...dirs])} for every target`);
    const startFailures = errors.map((e) => targetFailureOf(e.profile, e.error));
    if (ready.length === 0) throw failed(startFailures, combineExitCodes(codes));
    // every configured target counts as present, also one left out because it is locked
    if (configFile !== null) await retireRemovedTargets(agents, configFile, global, rootLog);
    if (!global.oneshot) return await runDaemon(ready, global, log);
    const passes = await oneshot(ready, global, log, dirs);
    const code = combineExitCodes([...codes, ...passes.codes]);
    if (code !== EXIT.ok) throw failed([...startFailures, ...passes.failures], code);
    return code;
  } catch (caught) {
    // a one-shot's failed targets were logged by their passes; the CLI entry prints the line
    if (caught instanceof CommandFailed) throw caught;
    // before the log exists, and for a bug, the CLI entry prints the error alone
    const err = asHailError(caught);
    if (err.exitCode !== EXIT.internal && log !== null) log.error(err.message, { errorKind: err.kind, hint: err.hint ?? undefined });
    throw caught;
  } finally {
    for (const lock of locks) await lock.release();
  }
}

async function oneshot(agents: TargetAgent[], global: AgentConfig, log: Log, dirs: readonly string[]): Promise<{ codes: number[]; failures: TargetFailure[] }> {
  const codes: number[] = [];
  const failures: TargetFailure[] = [];
  for (const agent of agents) agent.newRound();
  for (const agent of agents) {
    await agent.start("oneshot");
    const report: PassReport = agent.last?.kind === "converge-failed" ? agent.last : await agent.pass();
    const profile = agent.target.profile.name;
    if (report.kind !== "error" && report.kind !== "converge-failed") process.stdout.write(`${describePass(report, profile)}\n`);
    codes.push(passExitCode(report));
    const failure = passFailure(report, profile, dirs);
    if (failure !== null) failures.push(failure);
  }
  await writeMetricsFile(global.metricsFile, () => fleetMetrics(agents), log);
  return { codes, failures };
}

/**
 * A profile whose directory does not exist yet is made by its first deployment (a new
 * --profiles-dir, a nested name such as hail/myapp); said once at start, with the path, so a
 * misspelt --profiles-dir shows in the log rather than as a silent second copy of the profile.
 */
function noteMissingProfileDirs(configs: readonly AgentConfig[], log: Log): void {
  const missing = new Set(configs.map((c) => dirname(c.target.profile.path)).filter((dir) => !existsSync(dir)));
  for (const dir of missing) log.info(`profile directory ${dir} does not exist: the first deployment creates it (check --profiles-dir if that is not what you meant)`);
}

/** Options the operator typed (not defaults): the ones a hint's command carries. */
function typedIn(cmd: Command | null): (option: string) => boolean {
  return (option) => cmd === null || cmd.getOptionValueSource(option) === "cli";
}
