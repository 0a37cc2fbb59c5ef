// cli: `hail status`, `hail hold` and `hail release`: reading and changing a profile's state.
import { checkDurationLimit, DURATION_LIMITS, exampleTime, parseCalendarTime, parseDuration } from "../duration.js";
import { UsageError, asHailError } from "../errors.js";
import { profileRefOf, type ProfileRef } from "../profile/path.js";
import { releaseHold, setHold } from "../state/transitions.js";
import { layerOptions, loadConfigFile } from "./config-file.js";
import { listNames, refuseUnknownProfile } from "./known-profiles.js";
import type { OptionValues } from "./option-table.js";
import { parsedOption } from "./option-table.js";
import { absoluteDirs } from "./options.js";
import { givenDirFlags, pasteable } from "./failure-line.js";
import type { StatusReport } from "./status-report.js";
import { renderStatus, statusOf } from "./status-report.js";
import { inConfigFile } from "./targets.js";
import { stateStoreFor } from "../state/profile-files.js";
import { stateDirOf } from "../state/state-dir.js";

/** Options of `status`, `hold` and `release`: PROFILE positionally or as --profile, or a target of --config. */
type ManageOptions = OptionValues<"profile" | "profilesDir" | "stateDir" | "config">;

/** Whether the operator typed an option (it then overrides the config file's). */
type Typed = (option: string) => boolean;

/** A profile and where its state lives: from the flags, or from its target in --config. */
interface Managed {
  profile: ProfileRef;
  stateDir: string;
  profilesDir: string;
  /** named by a --config target: known even before its first deployment */
  inConfig: boolean;
}

function nameOf(positional: string | undefined, opts: ManageOptions): string | undefined {
  if (positional && opts.profile && positional !== opts.profile) {
    throw new UsageError(`two profiles given: ${positional} and --profile ${opts.profile}`, "give one");
  }
  return positional ?? opts.profile;
}

function profileOf(positional: string | undefined, opts: ManageOptions): ProfileRef {
  absoluteDirs(opts);
  const name = nameOf(positional, opts);
  if (!name) throw new UsageError("which profile? give PROFILE or --profile NAME");
  return profileRefOf(name, parsedOption(opts, "profilesDir"));
}

/** Every target of --config, with the flags typed here layered over the file's options. */
async function configTargets(opts: ManageOptions, typed: Typed): Promise<Managed[]> {
  const file = await loadConfigFile(opts.config ?? "");
  const { profilesDir, stateDir } = opts;
  return layerOptions(file, { profilesDir, ...(stateDir === undefined ? {} : { stateDir }) }, typed, opts.config ?? "").map((t, i) => {
    inConfigFile(opts.config ?? "", i, t.profile, () => absoluteDirs(t));
    const dir = parsedOption(t, "profilesDir");
    return { profile: profileRefOf(t.profile, dir), stateDir: stateDirOf(t.stateDir), profilesDir: dir, inConfig: true };
  });
}

/** The profile to act on: PROFILE under the flags, or the --config target that is PROFILE (by name or path). */
async function managedOf(positional: string | undefined, opts: ManageOptions, typed: Typed): Promise<Managed> {
  if (opts.config === undefined) {
    return { profile: profileOf(positional, opts), stateDir: stateDirOf(opts.stateDir), profilesDir: parsedOption(opts, "profilesDir"), inConfig: false };
  }
  const name = nameOf(positional, opts);
  const targets = await configTargets(opts, typed);
  const names = listNames(targets.map((t) => t.profile.name));
  if (!name) throw new UsageError(`which profile? give PROFILE, one of the targets of config file ${opts.config}: ${names}`);
  const found = targets.find((t) => t.profile.name === name || t.profile.path === profileRefOf(name, t.profilesDir).path);
  if (found === undefined) throw new UsageError(`profile ${name} is not a target of config file ${opts.config}; its targets: ${names}`);
  return found;
}

/** Refuses a profile hail does not know (exit 64, writes nothing); a --config target is known. */
async function refuseUnknown(m: Managed, hint: string | null): Promise<void> {
  if (!m.inConfig) await refuseUnknownProfile(m.profile, m.stateDir, m.profilesDir, hint);
}

/** `hail hold PROFILE [--reason TEXT] [--until DURATION|TIME] [--new] [--config FILE]` */
export async function holdCommand(
  positional: string | undefined,
  opts: ManageOptions & OptionValues<"reason" | "until" | "new">,
  typed: Typed = () => false,
): Promise<number> {
  const managed = await managedOf(positional, opts, typed);
  const { profile } = managed;
  const now = new Date();
  const until = opts.until === undefined ? null : parseUntil(opts.until, now);
  if (opts.new !== true) {
    // the same command with --new, and the options it was given, to paste as it is
    const given = [...(opts.reason === undefined ? [] : ["--reason", opts.reason]), ...(opts.until === undefined ? [] : ["--until", opts.until])];
    const again = pasteable(["hold", profile.name, ...given, "--new", ...givenDirFlags(opts, typed)]);
    await refuseUnknown(managed, `to hold it before its first deployment, run ${again}`);
  }
  const store = stateStoreFor(profile, managed.stateDir);
  await store.update((s) => setHold(s, opts.reason ?? null, until, now.toISOString()));
  process.stdout.write(`held ${profile.name}${until ? ` until ${until}` : ""}${opts.reason ? `: ${opts.reason}` : ""}\n`);
  return 0;
}

/** `hail release PROFILE [--clear-failed] [--config FILE]` */
export async function releaseCommand(
  positional: string | undefined,
  opts: ManageOptions & OptionValues<"clearFailed">,
  typed: Typed = () => false,
): Promise<number> {
  const managed = await managedOf(positional, opts, typed);
  const { profile } = managed;
  await refuseUnknown(managed, null);
  const store = stateStoreFor(profile, managed.stateDir);
  const before = await store.read();
  await store.update((s) => releaseHold(s, opts.clearFailed === true));
  const cleared = opts.clearFailed ? `; cleared ${before.failed.length} failure mark(s)` : "";
  process.stdout.write(`released ${profile.name}${before.hold ? "" : " (it was not held)"}${cleared}\n`);
  return 0;
}

/** A duration from now ("2h") or an absolute time ("2027-01-04T08:00:00Z"). */
export function parseUntil(text: string, now: Date): string {
  let at: number;
  const usage = () => new UsageError(`--until ${text}: give a duration with a unit (2h, 30m) or a date and time (${exampleTime(now)})`);
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    // Only a full date: Date.parse would read a bare "45" as the year 2045.
    at = parseCalendarTime(text, "--until", now);
  } else if (/^[\d.]+(ms|s|m|h|d)/.test(text)) {
    at = now.getTime() + parseDuration(text, "--until");
  } else {
    throw usage();
  }
  if (at <= now.getTime()) throw new UsageError(`--until ${text} is not in the future`);
  checkDurationLimit(at - now.getTime(), `--until ${text}`, DURATION_LIMITS.hold);
  return new Date(at).toISOString();
}

/** `hail status PROFILE [--json]`, or `hail status --config FILE` for every target in it. */
export async function statusCommand(
  positional: string | undefined,
  opts: ManageOptions & OptionValues<"json">,
  typed: Typed = () => false,
): Promise<number> {
  if (!opts.json) return printStatus(positional, opts, typed);
  try {
    return await printStatus(positional, opts, typed);
  } catch (caught) {
    // --json: a script reads stdout, so the failure is a JSON object there too
    const err = asHailError(caught);
    process.stdout.write(`${JSON.stringify({ error: { kind: err.kind, message: err.message, hint: err.hint, exitCode: err.exitCode } }, null, 2)}\n`);
    throw err;
  }
}

async function printStatus(positional: string | undefined, opts: ManageOptions & OptionValues<"json">, typed: Typed): Promise<number> {
  if (opts.config !== undefined && !nameOf(positional, opts)) {
    const reports: StatusReport[] = [];
    for (const target of await configTargets(opts, typed)) reports.push(await statusOf(target.profile, target.stateDir));
    const dirs = givenDirFlags(opts, typed);
    process.stdout.write(opts.json ? `${JSON.stringify({ targets: reports }, null, 2)}\n` : reports.map((r) => renderStatus(r, dirs)).join("\n"));
    return 0;
  }
  const managed = await managedOf(positional, opts, typed);
  await refuseUnknown(managed, null);
  const report = await statusOf(managed.profile, managed.stateDir);
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report, givenDirFlags(opts, typed)));
  return 0;
}
