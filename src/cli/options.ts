import type { Command } from "commander";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { splitCommandLine } from "../command-line.js";
import type { Hooks } from "../deploy/hooks.js";
import type { RolloutPolicy } from "../deploy/rollout.js";
import type { Target } from "../deploy/target.js";
import { DURATION_LIMITS, parseBoundedDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import { parseJobUrl } from "../hydra/job-url.js";
import { parseListenAddress } from "../metrics/listen-address.js";
import type { LogFormat, LogLevel } from "../log.js";
import { DEFAULT_PROFILES_DIR, resolveProfile } from "../nix/profile-path.js";
import { parseSize } from "../size.js";
import type { RawNixosOptions } from "../nixos/config.js";
import { confirmTimeoutChoice, nixosChoice } from "../nixos/config.js";
import type { AgentConfig } from "../agent/config.js";

/** Flags as commander hands them over (camelCase, strings). */
export interface RawOptions extends RawNixosOptions {
  gateJob?: string;
  constituent?: string;
  jobUri?: string;
  profile?: string;
  profilesDir: string;
  output: string;
  netrcFile?: string;
  hydraUser?: string;
  hydraPasswordFile?: string;
  pollPeriod?: string;
  pollMinInterval?: string;
  oneshot?: boolean;
  stateDir: string;
  activateTimeout?: string;
  healthCheck?: string;
  rollback?: boolean;
  logFormat?: string;
  logLevel: string;
  timeout: string;
  metricsFile?: string;
  metricsListen?: string;
  rolloutWindow?: string;
  rolloutKey?: string;
  allowDowngrade?: boolean;
  minFree?: string;
  keepGenerations?: string;
  onSuccess?: string;
  onFailure?: string;
}

export const DEFAULT_NETRC = "/etc/netrc";
export const DEFAULT_STATE_DIR = "/var/lib/hail";
export const RUN_DEFAULTS = { pollPeriod: "5m", pollMinInterval: "10s", activateTimeout: "10m", minFree: "1GiB" } as const;

export function addLogOptions(cmd: Command): Command {
  return cmd
    .option("--log-format <format>", "pretty|json (default: pretty on a TTY, json otherwise)")
    .option("--log-level <level>", "debug|info|warn|error", "info");
}

/** The flags every command that talks to Hydra shares (SPEC §1). */
export function addTargetOptions(cmd: Command): Command {
  return addLogOptions(
    cmd
      .option("--gate-job <url>", "Hydra job URL of an aggregate release gate")
      .option("--constituent <name>", "constituent job of the gate to deploy")
      .option("--job-uri <url>", "a plain Hydra job (the original hail): deploy its latest build")
      .option("--profile <name|path>", "Nix profile: a name under --profiles-dir, or an absolute path")
      .option("--profiles-dir <dir>", "where profile names live", DEFAULT_PROFILES_DIR)
      .option("--output <name>", "which output of the build to deploy", "out")
      .option("--netrc-file <path>", `HTTP Basic credentials for the Hydra host (default ${DEFAULT_NETRC} when it exists)`)
      .option("--hydra-user <user>", "log in to a private Hydra as this user (with --hydra-password-file)")
      .option("--hydra-password-file <file>", "file holding the password of --hydra-user")
      .option("--state-dir <dir>", "state and lock files", DEFAULT_STATE_DIR)
      .option("--timeout <duration>", "per HTTP request", "30s")
      .option("--rollout-window <duration>", "staged rollout: deploy a new gate build only after stoptime + window × f(key, build)", "0")
      .option("--rollout-key <key>", "the key hashed for the staged rollout (default: the host name)")
      .option("--allow-downgrade", "follow Hydra when it offers an older build than the one hail last deployed")
      .option("--nixos", "the output is a NixOS system: activate it with its bin/switch-to-configuration")
      .option("--nixos-action <action>", "with --nixos: switch (default) or boot")
      .option("--reboot-window <HH:MM-HH:MM>", "with --nixos: on a kernel change, activate with boot and reboot inside this local-time window")
      .option("--reboot-command <command>", "with --reboot-window: how to reboot (default: systemctl reboot)")
      .option("--booted-system <path>", "with --nixos: the running system, to compare kernels with (default: /run/booted-system)"),
  );
}

/** Flags only deploying (`hail run`) takes. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option("--oneshot", "one pass, then exit with a meaningful code")
    .option("--poll-period <duration>", "poll period; a bare number means minutes", RUN_DEFAULTS.pollPeriod)
    .option("--poll-min-interval <duration>", "POST /poll and SIGUSR1 start at most one extra pass per this interval (429 beyond)", RUN_DEFAULTS.pollMinInterval)
    .option("--activate-timeout <duration>", "kill an activation running longer", RUN_DEFAULTS.activateTimeout)
    .option("--health-check <command>", "run after activation; failure fails the deployment")
    .option("--no-rollback", "on failure, leave the failed generation in place")
    .option("--metrics-file <path>", "write Prometheus text exposition here after every pass")
    .option("--metrics-listen <host:port>", "serve /metrics, /healthz and POST /poll (host defaults to 127.0.0.1)")
    .option("--min-free <size>", "refuse to realise when the store's filesystem would drop below this", RUN_DEFAULTS.minFree)
    .option("--keep-generations <n>", "after a success, delete profile generations older than the newest N")
    .option("--on-success <command>", "run after a successful deployment (env HAIL_PROFILE, HAIL_RESULT, HAIL_STORE_PATH, HAIL_BUILD_ID)")
    .option("--on-failure <command>", "run after a failed deployment (same env, plus HAIL_ERROR)")
    .option("--confirm-timeout <duration>", "after activation, Hydra must answer again within this time, or hail rolls back");
}

export function toTarget(raw: Pick<RawOptions, "gateJob" | "constituent" | "jobUri" | "profile" | "profilesDir" | "output">): Target {
  if (!raw.profile) throw new UsageError("--profile is required: the Nix profile to deploy to");
  checkOutputName(raw.output);
  const profile = resolveProfile(raw.profile, raw.profilesDir);
  if (raw.gateJob && raw.jobUri) throw new UsageError("give either --gate-job or --job-uri, not both");
  if (raw.gateJob) {
    if (!raw.constituent) throw new UsageError("--gate-job needs --constituent NAME: which constituent job to deploy");
    return { source: { kind: "gate", job: parseJobUrl(raw.gateJob), constituent: raw.constituent }, profile, output: raw.output };
  }
  if (raw.jobUri) {
    if (raw.constituent) throw new UsageError("--constituent only applies to --gate-job");
    return { source: { kind: "job", job: parseJobUrl(raw.jobUri) }, profile, output: raw.output };
  }
  throw new UsageError("no target: give --gate-job URL --constituent NAME, or --job-uri URL");
}

export function toAgentConfig(raw: RawOptions, stderrIsTTY: boolean): AgentConfig {
  const nixos = nixosChoice(raw);
  const target = toTarget(raw);
  return {
    target: nixos === null ? target : { ...target, nixos },
    confirmTimeoutMs: confirmTimeoutChoice(raw),
    stateDir: raw.stateDir,
    pollPeriodMs: parseBoundedDuration(raw.pollPeriod ?? RUN_DEFAULTS.pollPeriod, "--poll-period", DURATION_LIMITS.timer, "m"),
    pollMinIntervalMs: parseBoundedDuration(raw.pollMinInterval ?? RUN_DEFAULTS.pollMinInterval, "--poll-min-interval", DURATION_LIMITS.timer),
    oneshot: raw.oneshot === true,
    timeoutMs: parseBoundedDuration(raw.timeout, "--timeout", DURATION_LIMITS.timer),
    activateTimeoutMs: parseBoundedDuration(raw.activateTimeout ?? RUN_DEFAULTS.activateTimeout, "--activate-timeout", DURATION_LIMITS.timer),
    healthCheck: raw.healthCheck === undefined ? null : splitCommandLine(raw.healthCheck, "--health-check"),
    rollback: raw.rollback !== false,
    netrc: netrcChoice(raw.netrcFile),
    hydraLogin: hydraLoginChoice(raw),
    metricsFile: raw.metricsFile ?? null,
    metricsListen: raw.metricsListen === undefined ? null : parseListenAddress(raw.metricsListen),
    rollout: rolloutChoice(raw),
    allowDowngrade: raw.allowDowngrade === true,
    minFreeBytes: parseSize(raw.minFree ?? RUN_DEFAULTS.minFree, "--min-free"),
    keepGenerations: raw.keepGenerations === undefined ? null : positiveInteger(raw.keepGenerations, "--keep-generations"),
    hooks: {
      onSuccess: raw.onSuccess === undefined ? null : splitCommandLine(raw.onSuccess, "--on-success"),
      onFailure: raw.onFailure === undefined ? null : splitCommandLine(raw.onFailure, "--on-failure"),
    },
    ...logChoice(raw, stderrIsTTY),
  };
}

export function logChoice(raw: { logFormat?: string; logLevel: string }, stderrIsTTY: boolean) {
  const logFormat = raw.logFormat ?? (stderrIsTTY ? "pretty" : "json");
  if (logFormat !== "pretty" && logFormat !== "json") throw new UsageError(`--log-format ${logFormat}: use pretty or json`);
  const level = raw.logLevel;
  if (level !== "debug" && level !== "info" && level !== "warn" && level !== "error") {
    throw new UsageError(`--log-level ${level}: use debug, info, warn or error`);
  }
  return { logFormat, logLevel: level } as const;
}

/** Shared by run and plan: plan says when this host's turn comes. */
export function rolloutChoice(raw: { rolloutWindow?: string; rolloutKey?: string }): RolloutPolicy | null {
  const windowMs = parseBoundedDuration(raw.rolloutWindow ?? "0", "--rollout-window", DURATION_LIMITS.window);
  if (windowMs === 0) return null;
  const key = raw.rolloutKey ?? hostname();
  if (key === "") throw new UsageError("--rollout-key must not be empty");
  return { windowMs, key };
}

function netrcChoice(given: string | undefined): AgentConfig["netrc"] {
  if (given !== undefined) return { path: given, explicit: true };
  return existsSync(DEFAULT_NETRC) ? { path: DEFAULT_NETRC, explicit: false } : null;
}

/** Both or neither: a user without a password (or the reverse) is a half-done configuration. */
export function hydraLoginChoice(raw: Pick<RawOptions, "hydraUser" | "hydraPasswordFile">): AgentConfig["hydraLogin"] {
  const { hydraUser: user, hydraPasswordFile: passwordFile } = raw;
  if (user === undefined && passwordFile === undefined) return null;
  if (user === undefined) throw new UsageError("--hydra-password-file needs --hydra-user: whose password is it?");
  if (passwordFile === undefined) {
    throw new UsageError("--hydra-user needs --hydra-password-file FILE: a file holding the password (never the password itself)");
  }
  if (user.trim() === "") throw new UsageError("--hydra-user must not be empty");
  if (passwordFile === "") throw new UsageError("--hydra-password-file must not be empty");
  return { user, passwordFile };
}

/**
 * An output name as Nix allows it (the characters of a store path name). Names an object has
 * by inheritance (`toString`, `__proto__`) are refused too: no output is called that, and such
 * a name must never pick something out of a plain object.
 */
export function checkOutputName(name: string): void {
  if (!/^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*$/.test(name) || name in Object.prototype) {
    throw new UsageError(`--output ${JSON.stringify(name)}: not an output name; give one such as out, bin or lib`);
  }
}

function positiveInteger(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UsageError(`${flag} ${text}: give a whole number of at least 1`);
  return Number(text);
}
