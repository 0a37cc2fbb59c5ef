/**
 * Checked, not remembered: where each option of `run` and `plan` ends up in AgentConfig, the
 * one options shape the agent and every pass get (PassOptions and DeployOptions are part of it).
 * Types only, nothing runs. An option added to the table's TARGET or DEPLOY list (so to
 * RawOptions) without its field here, a field AgentConfig does not have, or an AgentConfig
 * field no option fills, fails `npm run typecheck` (test/cli/option-fields.typecheck.ts).
 */
import type { AgentConfig } from "../agent/config.js";
import type { RawOptions } from "./option-table.js";

/** The fields of `Fields` that no option in `Options` fills, by the map `M` (every option in it). */
export type UnfilledFields<Options extends PropertyKey, Fields extends PropertyKey, M extends Record<Options, Fields>> = Exclude<Fields, M[Options]>;

/** Compiles only when `T` is never: nothing left over. */
export type NoneLeft<T extends never> = T;

/** toAgentConfig (options.ts) reads each option into this field. */
export type OptionFields = {
  gateJob: "target";
  constituent: "target";
  jobUri: "target";
  profile: "target";
  profilesDir: "target";
  output: "target";
  homeManager: "target";
  releaseManifest: "target";
  allowedSigners: "target";
  nixos: "target";
  nixosAction: "target";
  rebootWindow: "target";
  rebootCommand: "target";
  bootedSystem: "target";
  /** no field of its own: it decides whether the target's http:// URLs are taken */
  allowInsecureHttp: "target";
  netrcFile: "netrc";
  hydraUser: "hydraLogin";
  hydraPasswordFile: "hydraLogin";
  stateDir: "stateDir";
  timeout: "timeoutMs";
  rolloutWindow: "rollout";
  rolloutKey: "rollout";
  allowDowngrade: "allowDowngrade";
  logFormat: "logFormat";
  logLevel: "logLevel";
  oneshot: "oneshot";
  pollPeriod: "pollPeriodMs";
  pollMinInterval: "pollMinIntervalMs";
  startSpread: "startSpread";
  activateTimeout: "activateTimeoutMs";
  healthCheck: "healthCheck";
  rollback: "rollback";
  metricsFile: "metricsFile";
  metricsListen: "metricsListen";
  minFree: "minFreeBytes";
  keepGenerations: "keepGenerations";
  onSuccess: "hooks";
  onFailure: "hooks";
  confirmTimeout: "confirmTimeoutMs";
};

export type OptionFieldsChecked = NoneLeft<UnfilledFields<keyof RawOptions, keyof AgentConfig, OptionFields>>;
