// cli: `hail plan`: resolves every target as a pass would and says what it would do, changing
// nothing.
import type { Command } from "commander";
import type { Decision } from "../resolve/decide.js";
import { decide } from "../resolve/decide.js";
import { deploymentCommands } from "../deploy/deploy.js";
import { resolutionOf } from "../resolve/latest.js";
import { resolveTarget } from "../resolve/signed.js";
import { decideSigned } from "../resolve/signed-decide.js";
import type { HydraClient } from "../hydra/client.js";
import type { ReleaseView } from "../release/confirm.js";
import { describeRelease } from "../release/confirm.js";
import { createReleaseFiles } from "../agent/release-client.js";
import type { Resolution } from "../resolve/resolution.js";
import { storeDirFromEnv } from "../resolve/store-path.js";
import type { Target } from "../resolve/target.js";
import { describeSource, sourceKey } from "../resolve/target.js";
import { SharedRound } from "../resolve/shared-hydra.js";
import { EXIT, HailError, UsageError, combineExitCodes } from "../errors.js";
import type { Log } from "../log.js";
import { createLog } from "../log.js";
import { renderCommand } from "../nix/commands.js";
import { readProfileTarget } from "../profile/links.js";
import { nodeProfileFs } from "../profile/fs.js";
import { createProcessRunner } from "../nix/runner.js";
import type { SizeLookup } from "./plan-changes.js";
import type { PlanAction, PlanReport, PlanResult } from "./plan-report.js";
import { previewChanges, renderChanges, sharedSizeLookup } from "./plan-changes.js";
import { renderPlanMarkdown } from "./plan-markdown.js";
import { createHydraClient } from "../agent/hydra-client.js";
import { previewNixos } from "../nixos/plan-preview.js";
import type { OptionValues, RawOptions } from "./option-table.js";
import type { AgentConfig } from "../agent/config.js";
import type { TargetSet } from "./targets.js";
import { targetsFromOptions } from "./targets.js";
import { targetFailureOf, targetsFailed } from "./failure-line.js";
import { stateStoreFor } from "../state/profile-files.js";

/** --format is text (default), json (same as --json) or markdown. */
type PlanFlags = OptionValues<"json" | "format" | "detailedExitcode" | "fetch">;

const FORMATS = ["text", "json", "markdown"] as const;
type PlanFormat = (typeof FORMATS)[number];

/** `hail plan`: the same resolution as a pass, then print; never runs Nix, never writes. */
export async function planCommand(raw: RawOptions & PlanFlags & { config?: string }, cmd: Command | null = null): Promise<number> {
  let set: TargetSet;
  let format: PlanFormat;
  try {
    format = planFormat(raw);
    set = await targetsFromOptions(raw, cmd);
  } catch (err) {
    // --json: a script reads stdout, so the failure is a JSON object there too
    if (err instanceof HailError && (raw.json || raw.format === "json")) process.stdout.write(`${JSON.stringify({ error: errorJson(err) }, null, 2)}\n`);
    throw err;
  }
  const shared: PlanShared = { rounds: new Map(), sizes: null };
  const results: PlanResult[] = [];
  for (const config of set.configs) results.push(await planTarget(config, raw.fetch === true, shared));
  const many = set.configFile !== null;
  if (format === "json") {
    const one = results[0];
    const body = !many && one ? (one.kind === "report" ? one.report : { error: errorJson(one.error) }) : { targets: results.map(resultJson) };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else if (format === "markdown") {
    process.stdout.write(renderPlanMarkdown(results));
  } else {
    process.stdout.write(results.map((r) => (r.kind === "report" ? renderPlan(r.report) : `profile:     ${r.profile}\nerror:       ${r.error.message}\n`)).join("\n"));
  }
  const code = combineExitCodes(results.map((r) => (r.kind === "error" ? r.error.exitCode : raw.detailedExitcode && (r.report.action === "deploy" || r.report.action === "wait") ? EXIT.pending : EXIT.ok)));
  // the failed targets in one `hail: …` line, printed by the CLI entry as every failure is
  const failed = results.flatMap((r) => (r.kind === "error" ? [targetFailureOf(r.profile, r.error)] : []));
  if (failed.length > 0) throw targetsFailed(failed, results.length, code, null);
  return code;
}

/** `--format`, and `--json` as its short form; the two must not disagree. */
function planFormat(raw: PlanFlags): PlanFormat {
  const format = raw.format ?? (raw.json ? "json" : "text");
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format ${format}: use one of ${FORMATS.join(", ")}`);
  if (raw.json && format !== "json") throw new UsageError(`--json and --format ${format} disagree; give one of them`);
  return format as PlanFormat;
}


/**
 * What the targets of one plan run share, as the daemon's targets do within a poll: one
 * client and one round of answers per Hydra (so one resolution per gate), and the sizes of
 * each offered store path.
 */
interface PlanShared {
  rounds: Map<string, Promise<{ client: HydraClient; round: SharedRound }>>;
  sizes: SizeLookup | null;
}

function sharedRoundFor(shared: PlanShared, config: AgentConfig, log: Log): Promise<{ client: HydraClient; round: SharedRound }> {
  const base = config.target.source.job.baseUrl;
  let round = shared.rounds.get(base);
  if (round === undefined) {
    round = createHydraClient(config, log).then((client) => ({ client, round: new SharedRound(client) }));
    shared.rounds.set(base, round);
  }
  return round;
}

async function planTarget(config: AgentConfig, fetch: boolean, shared: PlanShared): Promise<PlanResult> {
  const log = createLog({ format: config.logFormat, level: config.logLevel, color: false }).child({ profile: config.target.profile.name });
  const storeDir = storeDirFromEnv(process.env);
  try {
    const { client, round: hydra } = await sharedRoundFor(shared, config, log);
    const releaseFiles = await createReleaseFiles(config, client, log);
    const { cache, release } = await resolveTarget({ hydra, releaseFiles, now: () => new Date() }, config.target, { output: config.target.output, storeDir }, null);
    const resolution = resolutionOf(cache);
    const current = await readProfileTarget(config.target.profile.path, storeDir);
    // plan reads the state file (failure marks, hold) but never writes it and takes no lock
    const state = await stateStoreFor(config.target.profile, config.stateDir).read();
    const policy = { source: sourceKey(config.target), allowDowngrade: config.allowDowngrade };
    const offered = decide(resolution, current, state, new Date(), config.rollout, policy);
    const decision = release === null ? offered : decideSigned(offered, release);
    const report = buildReport(config.target, resolution, current, decision, release);
    if (decision.kind === "deploy" || decision.kind === "wait") {
      shared.sizes ??= sharedSizeLookup({ storeDir, timeoutMs: config.timeoutMs });
      report.changes = await previewChanges(resolution.storePath, current, { fetch, runner: createProcessRunner(), sizes: shared.sizes });
    }
    const nixos = decision.kind === "deploy" ? await previewNixos(nodeProfileFs, config.target, resolution.storePath) : null;
    if (nixos) report.commands = [...report.commands.slice(0, -1), nixos.command];
    if (nixos) Object.assign(report, { reboot: nixos.reboot, rebootReasons: nixos.rebootReasons });
    return { kind: "report", report };
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    log.error(err.message, { errorKind: err.kind });
    return { kind: "error", profile: config.target.profile.name, error: err };
  }
}

function errorJson(err: HailError) {
  return { kind: err.kind, message: err.message, exitCode: err.exitCode };
}

function resultJson(r: PlanResult) {
  return r.kind === "report" ? r.report : { profile: { name: r.profile }, error: errorJson(r.error) };
}

export function buildReport(target: Target, resolution: Resolution, current: string | null, decision: Decision, release: ReleaseView | null = null): PlanReport {
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
    mode: target.nixos ? "nixos" : target.homeManager ? "home-manager" : "app",
    gateBuildId: resolution.gateBuildId,
    buildId: resolution.buildId,
    job: resolution.job,
    evals: resolution.evals,
    storePath: resolution.storePath,
    currentPath: current,
    action: decision.kind === "up-to-date" ? "none" : decision.kind,
    reason: decision.kind === "up-to-date" || decision.kind === "deploy" ? null : decision.reason,
    notBefore: decision.kind === "wait" ? decision.until : null,
    commands: decision.kind === "deploy" ? deploymentCommands(target, resolution.storePath).map(renderCommand) : [],
    changes: null,
    release,
  };
}

/** "stay" and "unsigned" say why in the action itself. */
function actionText(action: PlanReport["action"]): string {
  if (action === "unsigned") return "unsigned (keeping the signed build)";
  return action === "stay" ? "stay (older than deployed)" : action;
}

/** The text row of a mode other than a plain app's bin/activate. */
const MODE_TEXT = {
  nixos: "nixos (a NixOS system, activated with bin/switch-to-configuration)",
  "home-manager": "home-manager (a Home Manager generation, activated with its activate)",
} as const;

export function renderPlan(report: PlanReport): string {
  const rows: [string, string][] = [
    ["target", `${report.target.source} (output ${report.target.output})`],
    ["profile", `${report.profile.name} (${report.profile.path})`],
    ...(report.mode === "app" ? [] : [["mode", MODE_TEXT[report.mode]] as [string, string]]),
    ["gate build", report.gateBuildId === null ? "-" : String(report.gateBuildId)],
    ["build", `${report.buildId} (job ${report.job})`],
    ["evaluations", report.evals.join(", ") || "-"],
    ["store path", report.storePath],
    ["current", report.currentPath ?? "(no profile yet)"],
    ["action", report.reason ? `${actionText(report.action)}: ${report.reason}` : report.action],
  ];
  if (report.release) rows.splice(3, 0, ["release", `${describeRelease(report.release)} (${report.release.url})`]);
  const lines = rows.map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`);
  if (report.reboot !== undefined) lines.push(`${"reboot:".padEnd(13)}${report.reboot}`);
  if (report.changes) lines.push(...renderChanges(report.changes));
  if (report.commands.length > 0) lines.push("would run:", ...report.commands.map((c) => `  ${c}`));
  return `${lines.join("\n")}\n`;
}
