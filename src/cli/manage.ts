import { checkDurationLimit, DURATION_LIMITS, parseCalendarTime, parseDuration } from "../duration.js";
import { UsageError, asHailError } from "../errors.js";
import { currentGeneration, readProfileTarget } from "../nix/profile.js";
import { resolveProfile, type ProfileRef } from "../nix/profile-path.js";
import { activeHold } from "../deploy/decide.js";
import { storeDirFromEnv } from "../deploy/store-path.js";
import type { State } from "../state/schema.js";
import { releaseHold, setHold } from "../state/transitions.js";
import { layerOptions, loadConfigFile } from "./config-file.js";
import type { OptionValues } from "./option-table.js";
import { parsedOption } from "./option-table.js";
import { stateStoreFor } from "../state/profile-files.js";

/** Options of `status`, `hold` and `release`: PROFILE positionally or as --profile. */
type ManageOptions = OptionValues<"profile" | "profilesDir" | "stateDir">;

function profileOf(positional: string | undefined, opts: ManageOptions): ProfileRef {
  if (positional && opts.profile && positional !== opts.profile) {
    throw new UsageError(`two profiles given (${positional} and --profile ${opts.profile}); give one`);
  }
  const name = positional ?? opts.profile;
  if (!name) throw new UsageError("which profile? give PROFILE or --profile NAME");
  return resolveProfile(name, parsedOption(opts, "profilesDir"));
}

/** `hail hold PROFILE [--reason TEXT] [--until DURATION|TIME]` */
export async function holdCommand(positional: string | undefined, opts: ManageOptions & OptionValues<"reason" | "until">): Promise<number> {
  const profile = profileOf(positional, opts);
  const now = new Date();
  const until = opts.until === undefined ? null : parseUntil(opts.until, now);
  const store = stateStoreFor(profile, opts.stateDir);
  await store.update((s) => setHold(s, opts.reason ?? null, until, now.toISOString()));
  process.stdout.write(`held ${profile.name}${until ? ` until ${until}` : ""}${opts.reason ? `: ${opts.reason}` : ""}\n`);
  return 0;
}

/** `hail release PROFILE [--clear-failed]` */
export async function releaseCommand(positional: string | undefined, opts: ManageOptions & OptionValues<"clearFailed">): Promise<number> {
  const profile = profileOf(positional, opts);
  const store = stateStoreFor(profile, opts.stateDir);
  const before = await store.read();
  await store.update((s) => releaseHold(s, opts.clearFailed === true));
  const cleared = opts.clearFailed ? `; cleared ${before.failed.length} failure mark(s)` : "";
  process.stdout.write(`released ${profile.name}${before.hold ? "" : " (it was not held)"}${cleared}\n`);
  return 0;
}

/** A duration from now ("2h") or an absolute time ("2026-12-01T08:00:00Z"). */
export function parseUntil(text: string, now: Date): string {
  let at: number;
  const usage = () => new UsageError(`--until ${text}: give a duration with a unit (2h, 30m) or a date and time (2026-12-01T08:00:00Z)`);
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    // Only a full date: Date.parse would read a bare "45" as the year 2045.
    at = parseCalendarTime(text, "--until");
  } else if (/^[\d.]+(ms|s|m|h|d)/.test(text)) {
    at = now.getTime() + parseDuration(text, "--until");
  } else {
    throw usage();
  }
  if (at <= now.getTime()) throw new UsageError(`--until ${text} is not in the future`);
  checkDurationLimit(at - now.getTime(), `--until ${text}`, DURATION_LIMITS.hold);
  return new Date(at).toISOString();
}

interface StatusReport {
  profile: string;
  profilePath: string;
  generation: number | null;
  currentPath: string | null;
  changedOutsideHail: boolean;
  lastDeployed: State["lastDeployed"];
  lastAttempt: State["lastAttempt"];
  lastError: State["lastError"];
  failed: State["failed"];
  hold: State["hold"];
  rebootPending: State["rebootPending"];
}

/** `hail status PROFILE [--json]`, or `hail status --config FILE` for every target in it. */
export async function statusCommand(
  positional: string | undefined,
  opts: ManageOptions & OptionValues<"json" | "config">,
  typed: (option: string) => boolean = () => false,
): Promise<number> {
  if (!opts.json) return printStatus(positional, opts, typed);
  try {
    return await printStatus(positional, opts, typed);
  } catch (caught) {
    // --json: a script reads stdout, so the failure is a JSON object there too
    const err = asHailError(caught);
    process.stdout.write(`${JSON.stringify({ error: { kind: err.kind, message: err.message, exitCode: err.exitCode } }, null, 2)}\n`);
    throw err;
  }
}

async function printStatus(
  positional: string | undefined,
  opts: ManageOptions & OptionValues<"json" | "config">,
  typed: (option: string) => boolean,
): Promise<number> {
  if (opts.config !== undefined) {
    if (positional || opts.profile) throw new UsageError("give either a profile or --config, not both");
    const file = await loadConfigFile(opts.config);
    const reports: StatusReport[] = [];
    const { profilesDir, stateDir } = opts;
    for (const target of layerOptions(file, { profilesDir, stateDir }, typed, opts.config)) {
      reports.push(await statusOf(resolveProfile(target.profile, parsedOption(target, "profilesDir")), target.stateDir));
    }
    process.stdout.write(opts.json ? `${JSON.stringify({ targets: reports }, null, 2)}\n` : reports.map(renderStatus).join("\n"));
    return 0;
  }
  const report = await statusOf(profileOf(positional, opts), opts.stateDir);
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
  return 0;
}

async function statusOf(profile: ProfileRef, stateDir: string): Promise<StatusReport> {
  const state = await stateStoreFor(profile, stateDir).read();
  const currentPath = await readProfileTarget(profile.path, storeDirFromEnv(process.env));
  return {
    profile: profile.name,
    profilePath: profile.path,
    generation: await currentGeneration(profile.path),
    currentPath,
    changedOutsideHail: state.lastDeployed !== null && currentPath !== state.lastDeployed.storePath,
    lastDeployed: state.lastDeployed,
    lastAttempt: state.lastAttempt,
    lastError: state.lastError,
    failed: state.failed,
    hold: activeHold(state.hold, new Date()),
    rebootPending: state.rebootPending,
  };
}

function renderStatus(r: StatusReport): string {
  const rows: [string, string][] = [
    ["profile", `${r.profile} (${r.profilePath})`],
    ["current", r.currentPath ? `generation ${r.generation ?? "?"}: ${r.currentPath}` : "(no profile yet)"],
    ["deployed", r.lastDeployed ? `${describeBuild(r.lastDeployed)} at ${r.lastDeployed.at}` : "(nothing yet)"],
  ];
  if (r.changedOutsideHail) rows.push(["note", "the profile was changed outside hail since its last deployment"]);
  if (r.lastAttempt) {
    const a = r.lastAttempt;
    const result = a.endedAt === null ? "did not finish (hail stopped during it)" : `${a.result}${a.error ? `: ${a.error}` : ""}`;
    rows.push(["last attempt", `${describeBuild(a)} at ${a.startedAt}: ${result}`]);
  }
  if (r.lastError) rows.push(["last error", `${r.lastError.kind} at ${r.lastError.at}: ${r.lastError.message}`]);
  rows.push(["hold", r.hold ? `held since ${r.hold.since}${r.hold.until ? ` until ${r.hold.until}` : ""}${r.hold.reason ? `: ${r.hold.reason}` : ""}` : "none"]);
  if (r.rebootPending) rows.push(["reboot", `pending since ${r.rebootPending.since} into ${r.rebootPending.storePath} (${r.rebootPending.changed.join(", ")} changed)`]);
  const lines = rows.map(([k, v]) => `${`${k}:`.padEnd(14)}${v}`);
  if (r.failed.length > 0) {
    lines.push("known bad (not retried; `hail release --clear-failed` to retry):");
    for (const f of r.failed) lines.push(`  ${f.storePath} (build ${f.buildId}) at ${f.at}: ${f.reason}`);
  }
  return `${lines.join("\n")}\n`;
}

function describeBuild(b: { buildId: number; gateBuildId: number | null; evals: number[]; storePath: string }): string {
  const gate = b.gateBuildId === null ? "" : `, gate ${b.gateBuildId}`;
  return `build ${b.buildId}${gate}, evals ${b.evals.join(",") || "-"}: ${b.storePath}`;
}
