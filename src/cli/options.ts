// cli: From parsed flags to a checked AgentConfig: the target, its profile, its directories and
// choices.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { quote } from "shell-quote";
import type { Hooks } from "../deploy/hooks.js";
import type { RolloutPolicy } from "../resolve/rollout.js";
import type { ReleaseTarget, Target } from "../resolve/target.js";
import { UsageError } from "../errors.js";
import { refuseInsecureUrl } from "../hydra/insecure-http.js";
import { parseJobUrl } from "../hydra/job-url.js";
import type { LogFormat, LogLevel } from "../log.js";
import { profileRefOf } from "../profile/path.js";
import { confirmTimeoutChoice, nixosChoice } from "../nixos/config.js";
import { defaultHomeManagerProfile } from "../deploy/home-manager.js";
import { stateDirOf } from "../state/state-dir.js";
import type { AgentConfig } from "../agent/config.js";
import type { RawOptions } from "./option-table.js";
import { DEFAULT_NETRC, parsedOption } from "./option-table.js";

export type { RawOptions } from "./option-table.js";

export function toTarget(raw: Pick<RawOptions, "gateJob" | "constituent" | "jobUri" | "profile" | "profilesDir" | "output" | "homeManager" | "allowInsecureHttp">): Target {
  // --home-manager defaults to the profile Home Manager itself uses
  const name = raw.profile ?? (raw.homeManager === true ? defaultHomeManagerProfile(process.env) : undefined);
  if (!name) throw new UsageError("--profile is required: the Nix profile to deploy to");
  checkOutputName(raw.output);
  const profile = profileRefOf(name, parsedOption(raw, "profilesDir"));
  if (raw.gateJob && raw.jobUri) throw new UsageError("give either --gate-job or --job-uri, not both");
  for (const [url, flag] of [[raw.gateJob, "--gate-job"], [raw.jobUri, "--job-uri"]] as const) {
    if (url) refuseInsecureUrl(url, flag, raw.allowInsecureHttp === true);
  }
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
  absoluteDirs(raw);
  const nixos = nixosChoice(raw);
  if (nixos !== null && raw.homeManager === true) {
    throw new UsageError("--home-manager and --nixos exclude each other: a constituent is either a Home Manager generation or a NixOS system");
  }
  const release = releaseChoice(raw);
  const mode = nixos !== null ? { nixos } : raw.homeManager === true ? { homeManager: true as const } : {};
  const target = { ...toTarget(raw), ...mode, ...(release === null ? {} : { release }) };
  if (release !== null && target.source.kind !== "gate") {
    throw new UsageError("--release-manifest needs --gate-job URL --constituent NAME: a release signs a gate build and names its constituents");
  }
  return {
    target,
    confirmTimeoutMs: confirmTimeoutChoice(raw),
    stateDir: stateDirOf(raw.stateDir),
    pollPeriodMs: parsedOption(raw, "pollPeriod"),
    pollMinIntervalMs: parsedOption(raw, "pollMinInterval"),
    startSpread: raw.startSpread !== false,
    oneshot: raw.oneshot === true,
    timeoutMs: parsedOption(raw, "timeout"),
    activateTimeoutMs: parsedOption(raw, "activateTimeout"),
    healthCheck: parsedOption(raw, "healthCheck"),
    rollback: raw.rollback !== false,
    netrc: netrcChoice(raw.netrcFile),
    hydraLogin: hydraLoginChoice(raw),
    metricsFile: raw.metricsFile ?? null,
    metricsListen: parsedOption(raw, "metricsListen"),
    rollout: rolloutChoice(raw),
    allowDowngrade: raw.allowDowngrade === true,
    minFreeBytes: parsedOption(raw, "minFree"),
    keepGenerations: parsedOption(raw, "keepGenerations"),
    hooks: { onSuccess: parsedOption(raw, "onSuccess"), onFailure: parsedOption(raw, "onFailure") },
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

/** The staged rollout of a target, for run and for plan (which says when this host's turn comes). */
function rolloutChoice(raw: { rolloutWindow?: string; rolloutKey?: string }): RolloutPolicy | null {
  const windowMs = parsedOption(raw, "rolloutWindow");
  if (windowMs === 0) return null;
  const key = raw.rolloutKey ?? hostname();
  if (key === "") throw new UsageError("--rollout-key must not be empty");
  return { windowMs, key };
}

export function netrcChoice(given: string | undefined): AgentConfig["netrc"] {
  if (given !== undefined) return { path: given, explicit: true };
  return existsSync(DEFAULT_NETRC) ? { path: DEFAULT_NETRC, explicit: false } : null;
}

/**
 * Both or neither: a manifest no key could be checked against, or keys without a manifest,
 * would leave an operator believing releases are checked when they are not.
 */
function releaseChoice(raw: Pick<RawOptions, "releaseManifest" | "allowedSigners" | "allowInsecureHttp">): ReleaseTarget | null {
  const { releaseManifest: manifestUrl, allowedSigners } = raw;
  if (manifestUrl === undefined && allowedSigners === undefined) return null;
  if (manifestUrl === undefined || allowedSigners === undefined) {
    throw new UsageError(
      `${manifestUrl === undefined ? "--allowed-signers" : "--release-manifest"} needs ${manifestUrl === undefined ? "--release-manifest URL" : "--allowed-signers FILE"}: ` +
        "give --release-manifest URL and --allowed-signers FILE together",
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(manifestUrl);
  } catch {
    throw new UsageError(`--release-manifest ${manifestUrl} is not a URL`, "give the http(s) URL of the manifest `hail sign` wrote");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new UsageError(`--release-manifest ${manifestUrl}: use an http(s) URL`);
  refuseInsecureUrl(manifestUrl, "--release-manifest", raw.allowInsecureHttp === true);
  if (parsed.username !== "" || parsed.password !== "") throw new UsageError(`--release-manifest for ${parsed.host} contains credentials; put them in a netrc file instead`);
  if (parsed.search !== "" || parsed.hash !== "") throw new UsageError(`--release-manifest ${manifestUrl}: the signature is at URL.sig, so the URL can have no query or fragment`);
  return { manifestUrl, allowedSigners };
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
function checkOutputName(name: string): void {
  if (!/^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*$/.test(name) || name in Object.prototype) {
    throw new UsageError(`--output ${JSON.stringify(name)}: not an output name`, "give one such as out, bin or lib");
  }
}

/**
 * --state-dir and --profiles-dir must be absolute: a relative one is taken from the working
 * directory, which is `/` under systemd and the home directory in a shell, so the same command
 * would deploy to two places. Refused (64), naming the absolute form it has here as the hint.
 * An empty one is left to the checks that say it is empty.
 */
export function absoluteDirs(raw: { stateDir?: string | undefined; profilesDir?: string | undefined }): void {
  for (const [dir, flag] of [
    [raw.stateDir, "--state-dir"],
    [raw.profilesDir, "--profiles-dir"],
  ] as const) {
    if (dir === undefined || dir.trim() === "" || isAbsolute(dir)) continue;
    throw new UsageError(
      `${flag} ${dir} is a relative path: hail would take it from the directory it is started in (/ under systemd)`,
      `give it as an absolute path: ${quote([flag, resolve(dir)])}`,
    );
  }
}
