// cli: The single option table: every flag, its group, its help and the commands that take it.
import { Option } from "commander";
import type { Command } from "commander";
import { splitCommandLine } from "../command-line.js";
import { DURATION_LIMITS, parseBoundedDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import { parseListenAddress } from "../metrics/listen-address.js";
import { DEFAULT_PROFILES_DIR } from "../profile/path.js";
import { parseSize } from "../size.js";

/**
 * Every option of every command, declared once: its flag and help for commander, its default,
 * its key in the config file, and the parser that turns its text into a value. Commander's
 * options, the `RawOptions` type, the config-file schema and the README check
 * (test/cli/option-table.test.ts), each command's grouped --help, hail(1) and the generated
 * docs/reference/*.md (npm run docs:generate) are all derived from this table.
 * docs/reference/cli.md, "Adding an option".
 */
export interface OptionRow {
  /** commander's spelling: `--name <value>` takes a value, `--name` alone is a switch */
  readonly flag: string;
  readonly help: string;
  /** the heading it is listed under in --help, hail(1) and docs/reference/cli.md */
  readonly group: Group;
  /** a command whose help says it differently (`--config` in plan and status) */
  readonly helpIn?: Partial<Record<CommandName, string>>;
  /** a command that takes the flag with another value and no default (`sign --output <file>`) */
  readonly flagIn?: Partial<Record<CommandName, string>>;
  /** commander's default: the option is then always set */
  readonly default?: string;
  /** where the config file takes it, and its type there; absent: not in the config file */
  readonly file?: FileKey;
  /** the text of the option (given, or the default) to the value hail uses */
  readonly parse?: (text: string, flag: string) => unknown;
}

/** How a value is written in the config file (config-file.ts turns these into zod). */
export type FileValue = "string" | "non-empty" | "boolean" | "duration" | "size" | "positive-integer" | readonly string[];

export interface FileKey {
  /** "target": only inside a target; "both": globally or per target; "global": top level only */
  readonly where: "target" | "both" | "global";
  readonly value: FileValue;
  /** the key in the file when it is not the option's name (`noRollback` for `--no-rollback`) */
  readonly key?: string;
}

/**
 * The headings options are grouped under, in the order --help, hail(1) and
 * docs/reference/cli.md show them: what a reader looks for, not how hail is built.
 */
export const GROUPS = {
  target: "Target",
  hydra: "Hydra access",
  deployment: "Deployment",
  safety: "Safety",
  nixos: "NixOS",
  fleet: "Fleet",
  observability: "Observability",
  report: "Report",
  hold: "Hold and release",
  release: "Signing a release",
} as const;
export type Group = keyof typeof GROUPS;

export type CommandName = "run" | "plan" | "status" | "hold" | "release" | "sign";

export const DEFAULT_NETRC = "/etc/netrc";

const timer = (text: string, flag: string) => parseBoundedDuration(text, flag, DURATION_LIMITS.timer);
const commandLine = (text: string, flag: string) => splitCommandLine(text, flag);

export const OPTIONS = {
  gateJob: { group: "target", flag: "--gate-job <url>", help: "Hydra job URL of an aggregate release gate", file: { where: "target", value: "string" } },
  constituent: { group: "target", flag: "--constituent <name>", help: "constituent job of the gate to deploy", file: { where: "target", value: "string" } },
  jobUri: { group: "target", flag: "--job-uri <url>", help: "a plain Hydra job (the original hail): deploy its latest build", file: { where: "target", value: "string" } },
  profile: {
    group: "target",
    flag: "--profile <name|path>",
    help: "Nix profile: a name under --profiles-dir, or an absolute path",
    file: { where: "target", value: "non-empty" },
  },
  profilesDir: {
    group: "target",
    flag: "--profiles-dir <dir>",
    help: "where profile names live",
    default: DEFAULT_PROFILES_DIR,
    file: { where: "both", value: "non-empty" },
    parse: (text: string, flag: string) => nonEmptyDir(text, flag, DEFAULT_PROFILES_DIR),
  },
  output: {
    group: "target",
    flag: "--output <name>",
    help: "which output of the build to deploy",
    default: "out",
    file: { where: "both", value: "non-empty" },
    flagIn: { sign: "--output <file>" },
    helpIn: { sign: "the release manifest to write; its signature goes to FILE.sig" },
  },
  netrcFile: {
    group: "hydra",
    flag: "--netrc-file <path>",
    help: `HTTP Basic credentials for the Hydra host (default ${DEFAULT_NETRC} when it exists)`,
    file: { where: "global", value: "non-empty" },
  },
  hydraUser: { group: "hydra", flag: "--hydra-user <user>", help: "log in to a private Hydra as this user (with --hydra-password-file)", file: { where: "global", value: "non-empty" } },
  hydraPasswordFile: { group: "hydra", flag: "--hydra-password-file <file>", help: "file holding the password of --hydra-user", file: { where: "global", value: "non-empty" } },
  stateDir: {
    group: "target",
    flag: "--state-dir <dir>",
    // no commander default: it depends on the user hail runs as (state/state-dir.ts, defaultStateDir)
    help: "state and lock files (default: /var/lib/hail as root, $XDG_STATE_HOME/hail for another user)",
    file: { where: "global", value: "non-empty" },
  },
  timeout: { group: "hydra", flag: "--timeout <duration>", help: "per HTTP request", default: "30s", file: { where: "global", value: "duration" }, parse: timer },
  rolloutWindow: {
    group: "fleet",
    flag: "--rollout-window <duration>",
    help: "staged rollout: deploy a new gate build only after stoptime + window × f(key, build)",
    default: "0",
    file: { where: "both", value: "duration" },
    parse: (text: string, flag: string) => parseBoundedDuration(text, flag, DURATION_LIMITS.window),
  },
  rolloutKey: { group: "fleet", flag: "--rollout-key <key>", help: "the key hashed for the staged rollout (default: the host name)", file: { where: "both", value: "string" } },
  allowDowngrade: {
    group: "safety",
    flag: "--allow-downgrade",
    help: "follow Hydra when it offers an older build than the one hail last deployed",
    file: { where: "both", value: "boolean" },
  },
  allowInsecureHttp: {
    group: "hydra",
    flag: "--allow-insecure-http",
    help: "accept plain http:// Hydra URLs to a host other than this machine (default: refused unless loopback)",
    file: { where: "both", value: "boolean" },
  },
  homeManager: {
    group: "deployment",
    flag: "--home-manager",
    help: "the output is a Home Manager generation: switch it (default profile $XDG_STATE_HOME/nix/profiles/home-manager) and run its activate",
    file: { where: "both", value: "boolean" },
  },
  releaseManifest: {
    group: "safety",
    flag: "--release-manifest <url>",
    help: "deploy only the gate build this signed release names (signature at URL.sig; with --allowed-signers)",
    file: { where: "both", value: "non-empty" },
  },
  allowedSigners: {
    group: "safety",
    flag: "--allowed-signers <file>",
    help: "OpenSSH allowed_signers file: the keys that may sign releases (namespace hail-release)",
    file: { where: "both", value: "non-empty" },
  },
  nixos: { group: "nixos", flag: "--nixos", help: "the output is a NixOS system: activate it with its bin/switch-to-configuration", file: { where: "both", value: "boolean" } },
  nixosAction: { group: "nixos", flag: "--nixos-action <action>", help: "with --nixos: switch (default) or boot", file: { where: "both", value: ["switch", "boot"] } },
  rebootWindow: {
    group: "nixos",
    flag: "--reboot-window <HH:MM-HH:MM>",
    help: "with --nixos: on a kernel change, activate with boot and reboot inside this local-time window",
    file: { where: "both", value: "string" },
  },
  rebootCommand: { group: "nixos", flag: "--reboot-command <command>", help: "with --reboot-window: how to reboot (default: systemctl reboot)", file: { where: "both", value: "string" } },
  bootedSystem: {
    group: "nixos",
    flag: "--booted-system <path>",
    help: "with --nixos: the running system, to compare kernels with (default: /run/booted-system)",
    file: { where: "both", value: "non-empty" },
  },
  logFormat: { group: "observability", flag: "--log-format <format>", help: "pretty|json (default: pretty on a TTY, json otherwise)", file: { where: "global", value: ["pretty", "json"] } },
  logLevel: { group: "observability", flag: "--log-level <level>", help: "debug|info|warn|error", default: "info", file: { where: "global", value: ["debug", "info", "warn", "error"] } },
  oneshot: { group: "deployment", flag: "--oneshot", help: "one pass, then exit with a meaningful code", file: { where: "global", value: "boolean" } },
  pollPeriod: {
    group: "deployment",
    flag: "--poll-period <duration>",
    help: "poll period; a bare number means minutes",
    default: "5m",
    file: { where: "global", value: "duration" },
    parse: (text: string, flag: string) => parseBoundedDuration(text, flag, DURATION_LIMITS.timer, "m"),
  },
  pollMinInterval: {
    group: "deployment",
    flag: "--poll-min-interval <duration>",
    help: "POST /poll and SIGUSR1 start at most one extra pass per this interval (429 beyond)",
    default: "10s",
    file: { where: "global", value: "duration" },
    parse: timer,
  },
  startSpread: {
    group: "deployment",
    flag: "--no-start-spread",
    help: "poll at once at start, also when the profiles exist (default: the first poll is spread over the poll period)",
    file: { where: "global", value: "boolean", key: "noStartSpread" },
  },
  activateTimeout: {
    group: "deployment",
    flag: "--activate-timeout <duration>",
    help: "kill an activation running longer",
    default: "10m",
    file: { where: "both", value: "duration" },
    parse: timer,
  },
  healthCheck: {
    group: "safety",
    flag: "--health-check <command>",
    help: "run after activation; failure fails the deployment",
    file: { where: "both", value: "string" },
    parse: commandLine,
  },
  rollback: { group: "safety", flag: "--no-rollback", help: "on failure, leave the failed generation in place", file: { where: "both", value: "boolean", key: "noRollback" } },
  metricsFile: { group: "observability", flag: "--metrics-file <path>", help: "write Prometheus text exposition here after every pass", file: { where: "global", value: "non-empty" } },
  metricsListen: {
    group: "observability",
    flag: "--metrics-listen <host:port>",
    help: "serve /metrics, /healthz and POST /poll (host defaults to 127.0.0.1)",
    file: { where: "global", value: "non-empty" },
    parse: (text: string) => parseListenAddress(text),
  },
  minFree: {
    group: "safety",
    flag: "--min-free <size>",
    help: "refuse to realise when the store's filesystem would drop below this",
    default: "1GiB",
    file: { where: "both", value: "size" },
    parse: parseSize,
  },
  keepGenerations: {
    group: "deployment",
    flag: "--keep-generations <n>",
    help: "after a success, delete profile generations older than the newest N",
    file: { where: "both", value: "positive-integer" },
    parse: positiveInteger,
  },
  onSuccess: {
    group: "deployment",
    flag: "--on-success <command>",
    help: "run after a successful deployment (env HAIL_PROFILE, HAIL_RESULT, HAIL_STORE_PATH, HAIL_BUILD_ID)",
    file: { where: "both", value: "string" },
    parse: commandLine,
  },
  onFailure: { group: "deployment", flag: "--on-failure <command>", help: "run after a failed deployment (same env, plus HAIL_ERROR)", file: { where: "both", value: "string" }, parse: commandLine },
  confirmTimeout: {
    group: "safety",
    flag: "--confirm-timeout <duration>",
    help: "after activation, Hydra must answer again within this time, or hail rolls back",
    file: { where: "both", value: "duration" },
    parse: timer,
  },
  config: {
    group: "fleet",
    flag: "--config <file>",
    help: "many targets from one JSON file (flags given here override its options)",
    helpIn: {
      plan: "plan every target of a config file",
      status: "the status of every target of a config file (or of PROFILE among them)",
      hold: "PROFILE is a target of this config file: its --profiles-dir and --state-dir come from there",
      release: "PROFILE is a target of this config file: its --profiles-dir and --state-dir come from there",
    },
  },
  json: { group: "report", flag: "--json", help: "print one JSON object" },
  format: { group: "report", flag: "--format <format>", help: "text, json (as --json) or markdown (a table for a CI summary)" },
  detailedExitcode: { group: "report", flag: "--detailed-exitcode", help: "exit 2 when a deployment is pending" },
  fetch: { group: "report", flag: "--fetch", help: "realise the new closure first so plan can show a closure diff (writes the Nix store)" },
  reason: { group: "hold", flag: "--reason <text>", help: "why, shown by status and plan" },
  new: { group: "hold", flag: "--new", help: "hold a profile that has no profile link and no state yet (before its first deployment)" },
  until: { group: "hold", flag: "--until <duration|time>", help: "release the hold by itself after a duration (2h) or at a time" },
  key: {
    group: "release",
    flag: "--key <file>",
    help: "the release key: a private key file, or a public one whose private half is in ssh-agent (ssh-keygen -Y sign -f)",
  },
  expires: {
    group: "release",
    flag: "--expires <duration>",
    help: "the manifest expires this long after signing (hosts refuse it then); at most 365 days",
    parse: (text: string, flag: string) => parseBoundedDuration(text, flag, DURATION_LIMITS.hold),
  },
  clearFailed: { group: "hold", flag: "--clear-failed", help: "also forget known-bad builds, so the next pass may try them again" },
} as const satisfies Record<string, OptionRow>;

export type OptionName = keyof typeof OPTIONS;

const TARGET = [
  "gateJob",
  "constituent",
  "jobUri",
  "profile",
  "profilesDir",
  "output",
  "netrcFile",
  "hydraUser",
  "hydraPasswordFile",
  "stateDir",
  "timeout",
  "rolloutWindow",
  "rolloutKey",
  "allowDowngrade",
  "homeManager",
  "allowInsecureHttp",
  "releaseManifest",
  "allowedSigners",
  "nixos",
  "nixosAction",
  "rebootWindow",
  "rebootCommand",
  "bootedSystem",
  "logFormat",
  "logLevel",
] as const;
/** Only `run` deploys. */
const DEPLOY = [
  "oneshot",
  "pollPeriod",
  "pollMinInterval",
  "startSpread",
  "activateTimeout",
  "healthCheck",
  "rollback",
  "metricsFile",
  "metricsListen",
  "minFree",
  "keepGenerations",
  "onSuccess",
  "onFailure",
  "confirmTimeout",
] as const;
/** status, hold and release: no Hydra, only where the profile and its state are. */
const MANAGE = ["profile", "profilesDir", "stateDir"] as const;

/** Each command's options, in the order of its --help. */
export const COMMAND_OPTIONS = {
  run: [...TARGET, ...DEPLOY, "config"],
  plan: [...TARGET, "config", "json", "format", "detailedExitcode", "fetch"],
  status: [...MANAGE, "json", "config"],
  hold: [...MANAGE, "reason", "until", "new", "config"],
  release: [...MANAGE, "clearFailed", "config"],
  sign: ["gateJob", "key", "output", "expires", "netrcFile", "hydraUser", "hydraPasswordFile", "allowInsecureHttp", "timeout", "logFormat", "logLevel"],
} as const satisfies Record<CommandName, readonly OptionName[]>;

type Row<K extends OptionName> = (typeof OPTIONS)[K];
type ValueOf<K extends OptionName> = Row<K>["flag"] extends `${string}<${string}>` ? string : boolean;
type WithDefault<K extends OptionName> = K extends OptionName ? (Row<K> extends { default: string } ? K : never) : never;

/** What commander hands over for options `K`: camelCase names, strings and booleans. */
export type OptionValues<K extends OptionName> = { [P in WithDefault<K>]: ValueOf<P> } & { [P in Exclude<K, WithDefault<K>>]?: ValueOf<P> };

/**
 * Flags as commander hands them over for `hail run` and `hail plan`. Only run has the deploy
 * flags, so their defaults may be missing (parsedOption fills them in).
 */
export type RawOptions = OptionValues<(typeof TARGET)[number]> & Partial<OptionValues<(typeof DEPLOY)[number]>>;

/**
 * A command's options in the order a reader meets them: group by group (GROUPS), and within a
 * group in COMMAND_OPTIONS's order.
 */
export function optionNamesOf(command: CommandName): OptionName[] {
  const groups = Object.keys(GROUPS);
  const rank = (name: OptionName) => groups.indexOf((OPTIONS[name] as OptionRow).group);
  return [...(COMMAND_OPTIONS[command] as readonly OptionName[])].sort((a, b) => rank(a) - rank(b));
}

/** Adds a command's options, from the table, under their group's heading in --help. */
export function addOptions(cmd: Command, command: CommandName): Command {
  for (const name of optionNamesOf(command)) {
    const row = rowIn(name, command);
    const option = new Option(row.flag, row.help).helpGroup(`${GROUPS[row.group]}:`);
    cmd.addOption(row.default === undefined ? option : option.default(row.default));
  }
  return cmd;
}

/** An option as one command takes it: its flag, help and default there. */
export function rowIn(name: OptionName, command: CommandName): { flag: string; help: string; group: Group; default: string | undefined } {
  const row: OptionRow = OPTIONS[name];
  const help = row.helpIn?.[command] ?? row.help;
  const flag = row.flagIn?.[command];
  return flag === undefined ? { flag: row.flag, help, group: row.group, default: row.default } : { flag, help, group: row.group, default: undefined };
}

/** `--gate-job` for `gateJob`: the long flag, as error messages name it. */
export function flagOf(name: OptionName): string {
  return OPTIONS[name].flag.split(" ")[0] ?? name;
}

type Parsed<K extends OptionName> = Row<K> extends { parse: (text: string, flag: string) => infer T } ? T : never;
type Parsable = { [K in OptionName]: Row<K> extends { parse: unknown } ? K : never }[OptionName];

/**
 * An option's value through its parser: the given text, else its default (null when it has
 * none and is not given). A command without the option (plan has no --poll-period) gets the
 * default, as `run` would.
 */
export function parsedOption<K extends Parsable & keyof RawOptions>(raw: Partial<RawOptions>, name: K): K extends WithDefault<K> ? Parsed<K> : Parsed<K> | null {
  const row: OptionRow = OPTIONS[name];
  const text = (raw[name] as string | undefined) ?? row.default;
  const value = text === undefined || row.parse === undefined ? null : row.parse(text, flagOf(name));
  return value as K extends WithDefault<K> ? Parsed<K> : Parsed<K> | null;
}

/** An empty directory flag would mean the current directory: never what an operator wants. */
function nonEmptyDir(text: string, flag: string, byDefault: string): string {
  if (text.trim() === "") throw new UsageError(`${flag} is empty: give a directory (default ${byDefault})`);
  return text;
}

function positiveInteger(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UsageError(`${flag} ${text}: give a whole number of at least 1`);
  return Number(text);
}
