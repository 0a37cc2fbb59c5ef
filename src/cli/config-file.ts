import { readFile } from "node:fs/promises";
import { z } from "zod";
import { UsageError, describeError } from "../errors.js";
import { describeZodError } from "../hydra/schema.js";
import { profileGivenTwice } from "./one-per-profile.js";
import type { RawOptions } from "./options.js";

/**
 * `hail --config FILE` (SPEC §5): JSON whose keys are the long flags in camelCase. Unknown
 * keys are errors, so a typo never passes silently. Durations may be strings ("30s") or, as
 * on the command line, bare numbers.
 */
const duration = z.union([z.string(), z.number().nonnegative()]).transform(String);

/** Options a target may set for itself (they override the file's global ones). */
const perTargetKeys = {
  output: z.string().min(1),
  activateTimeout: duration,
  healthCheck: z.string(),
  noRollback: z.boolean(),
  rolloutWindow: duration,
  rolloutKey: z.string(),
  allowDowngrade: z.boolean(),
  profilesDir: z.string().min(1),
  minFree: z.union([z.string(), z.number().nonnegative()]).transform(String),
  keepGenerations: z.number().int().positive().transform(String),
  onSuccess: z.string(),
  onFailure: z.string(),
  nixos: z.boolean(),
  nixosAction: z.enum(["switch", "boot"]),
  rebootWindow: z.string(),
  rebootCommand: z.string(),
  bootedSystem: z.string().min(1),
  confirmTimeout: duration,
};

const globalKeys = {
  ...perTargetKeys,
  stateDir: z.string().min(1),
  netrcFile: z.string().min(1),
  hydraUser: z.string().min(1),
  hydraPasswordFile: z.string().min(1),
  pollPeriod: duration,
  pollMinInterval: duration,
  oneshot: z.boolean(),
  logFormat: z.enum(["pretty", "json"]),
  logLevel: z.enum(["debug", "info", "warn", "error"]),
  timeout: duration,
  metricsFile: z.string().min(1),
  metricsListen: z.string().min(1),
};

const TargetSchema = z.strictObject({
  profile: z.string().min(1),
  gateJob: z.string().optional(),
  jobUri: z.string().optional(),
  constituent: z.string().optional(),
  ...partial(perTargetKeys),
});

export const ConfigFileSchema = z.strictObject({
  ...partial(globalKeys),
  targets: z.array(TargetSchema).min(1, "a config file needs at least one target"),
});
export type ConfigFile = z.infer<typeof ConfigFileSchema>;

function partial<T extends Record<string, z.ZodType>>(shape: T) {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])) as { [K in keyof T]: z.ZodOptional<T[K]> };
}

export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(`--config ${path}: cannot read it (${describeError(err)})`);
  }
  return parseConfigFile(text, path);
}

export function parseConfigFile(text: string, path: string): ConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${describeError(err)}`);
  }
  const parsed = ConfigFileSchema.safeParse(json);
  if (!parsed.success) throw new UsageError(`config file ${path}: ${describeZodError(parsed.error, "(top level)")}`);
  const profiles = parsed.data.targets.map((t) => t.profile);
  const twice = profileGivenTwice(profiles);
  if (twice !== null) throw new UsageError(`config file ${path}: profile ${profiles[twice[0]]} appears in two targets; one hail per profile`);
  return parsed.data;
}

const TARGET_FLAGS = ["gateJob", "jobUri", "constituent", "profile"] as const;

/**
 * One set of raw options per target: commander's defaults, then the file's global options,
 * then the target's own, then flags given on the command line (an operator's flag wins, e.g.
 * `--log-level debug` or `--oneshot` for a one-off run).
 */
export function targetOptions(file: ConfigFile, defaults: RawOptions, cli: Partial<RawOptions>, path: string): RawOptions[] {
  const given = TARGET_FLAGS.filter((k) => cli[k] !== undefined);
  if (given.length > 0) {
    throw new UsageError(`--config ${path} lists the targets; drop ${given.map((k) => `--${kebab(k)}`).join(", ")} from the command line`);
  }
  const { targets, ...global } = file;
  return targets.map((target) => ({ ...defaults, ...fromFile(global), ...fromFile(target), ...cli }));
}

/** File keys are RawOptions keys, but for `noRollback`, which commander calls `rollback`. */
function fromFile(options: Record<string, unknown>): Partial<RawOptions> {
  const { noRollback, ...rest } = options;
  // The schema has checked every value's type; only the name of one key differs.
  const defined: Partial<RawOptions> = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return typeof noRollback === "boolean" ? { ...defined, rollback: !noRollback } : defined;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
