import type { Decision } from "../deploy/decide.js";
import { decide } from "../deploy/decide.js";
import { deploymentCommands } from "../deploy/deploy.js";
import { fetchResolution, resolutionOf } from "../deploy/fetch.js";
import type { Resolution } from "../deploy/resolve.js";
import { storeDirFromEnv } from "../deploy/store-path.js";
import type { Target } from "../deploy/target.js";
import { describeSource } from "../deploy/target.js";
import { HailError } from "../errors.js";
import { createLog } from "../log.js";
import { renderCommand } from "../nix/commands.js";
import { readProfileTarget } from "../nix/profile.js";
import { createHydraClient } from "./agent.js";
import type { RawOptions } from "./options.js";
import { toAgentConfig } from "./options.js";
import { stateStoreFor } from "./target-files.js";

export interface PlanFlags {
  json?: boolean;
  detailedExitcode?: boolean;
}

export interface PlanReport {
  target: { source: string; kind: Target["source"]["kind"]; url: string; constituent: string | null; output: string };
  profile: { name: string; path: string };
  gateBuildId: number | null;
  buildId: number;
  job: string;
  evals: number[];
  storePath: string;
  currentPath: string | null;
  action: Decision["kind"];
  reason: string | null;
  /** staged rollout: when this host's turn comes */
  notBefore: string | null;
  commands: string[];
}

/** `hail plan`: the same resolution as a pass, then print; never runs Nix, never writes. */
export async function planCommand(raw: RawOptions & PlanFlags): Promise<number> {
  const config = toAgentConfig(raw, process.stderr.isTTY === true);
  const log = createLog({ format: config.logFormat, level: config.logLevel, color: false }).child({
    profile: config.target.profile.name,
  });
  const storeDir = storeDirFromEnv(process.env);
  try {
    const hydra = await createHydraClient(config, log);
    const resolution = resolutionOf(
      await fetchResolution(hydra, config.target.source, { output: config.target.output, storeDir }, null),
    );
    const current = await readProfileTarget(config.target.profile.path, storeDir);
    // plan reads the state file (failure marks, hold) but never writes it and takes no lock
    const state = await stateStoreFor(config.target.profile, config.profilesDir, config.stateDir).read();
    const report = buildReport(config.target, resolution, current, decide(resolution, current, state, new Date(), config.rollout));
    process.stdout.write(raw.json ? `${JSON.stringify(report, null, 2)}\n` : renderPlan(report));
    return raw.detailedExitcode && report.action === "deploy" ? 2 : 0;
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    log.error(err.message, { errorKind: err.kind });
    if (raw.json) process.stdout.write(`${JSON.stringify({ error: { kind: err.kind, message: err.message, exitCode: err.exitCode } }, null, 2)}\n`);
    return err.exitCode;
  }
}

export function buildReport(target: Target, resolution: Resolution, current: string | null, decision: Decision): PlanReport {
  const { source } = target;
  return {
    target: {
      source: describeSource(source),
      kind: source.kind,
      url: source.job.url,
      constituent: source.kind === "gate" ? source.constituent : null,
      output: target.output,
    },
    profile: { name: target.profile.name, path: target.profile.path },
    gateBuildId: resolution.gateBuildId,
    buildId: resolution.buildId,
    job: resolution.job,
    evals: resolution.evals,
    storePath: resolution.storePath,
    currentPath: current,
    action: decision.kind,
    reason: decision.kind === "none" || decision.kind === "deploy" ? null : decision.reason,
    notBefore: decision.kind === "wait" ? decision.until : null,
    commands: decision.kind === "deploy" ? deploymentCommands(target, resolution.storePath).map(renderCommand) : [],
  };
}

export function renderPlan(report: PlanReport): string {
  const rows: [string, string][] = [
    ["target", `${report.target.source} (output ${report.target.output})`],
    ["profile", `${report.profile.name} (${report.profile.path})`],
    ["gate build", report.gateBuildId === null ? "-" : String(report.gateBuildId)],
    ["build", `${report.buildId} (job ${report.job})`],
    ["evaluations", report.evals.join(", ") || "-"],
    ["store path", report.storePath],
    ["current", report.currentPath ?? "(no profile yet)"],
    ["action", report.reason ? `${report.action}: ${report.reason}` : report.action],
  ];
  const lines = rows.map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`);
  if (report.commands.length > 0) lines.push("would run:", ...report.commands.map((c) => `  ${c}`));
  return `${lines.join("\n")}\n`;
}
