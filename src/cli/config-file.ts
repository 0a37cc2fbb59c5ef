// cli: The --config file: read under the trusted-file rules, parsed with zod, layered under the
// flags.
import * as z from "zod";
import { UsageError, describeError } from "../errors.js";
import { readFlagFile } from "../flag-file.js";
import { describeZodError } from "../zod-error.js";
import { profileGivenTwice } from "./one-per-profile.js";
import type { FileKey, FileValue, OptionName, OptionRow, RawOptions } from "./option-table.js";
import { OPTIONS, flagOf } from "./option-table.js";

/**
 * `hail --config FILE`: JSON whose keys are the long flags in camelCase (docs/reference.md, "Config file").
 * Unknown keys are errors, so a typo never passes silently. Durations may be strings ("30s") or,
 * as on the command line, bare numbers. The keys and their types come from the option table.
 */
function fileValues() {
  return {
    string: text(),
    "non-empty": text().min(1),
    boolean: z.boolean(),
    duration: z.union([z.string(), z.number().nonnegative()]).transform(String),
    size: z.union([z.string(), z.number().nonnegative()]).transform(String),
    "positive-integer": z.number().int().positive().transform(String),
  } satisfies Record<Exclude<FileValue, readonly string[]>, z.ZodType>;
}

/**
 * JSON may hold a NUL ("\u0000"); no path, profile name or command can, and Node refuses such
 * a string in every file call with a TypeError. Refused here, naming the field (64).
 */
function text() {
  return z.string().refine((value) => !value.includes("\0"), "must not contain a NUL character (\\u0000)");
}

interface FileOption {
  name: OptionName;
  key: string;
  spec: FileKey;
  /** `--no-rollback`: the file says `noRollback: true`, commander says `rollback: false` */
  negated: boolean;
}

/** The options the config file takes, under their file keys. */
const FILE_OPTIONS: readonly FileOption[] = (Object.keys(OPTIONS) as OptionName[]).flatMap((name) => {
  const { file: spec }: OptionRow = OPTIONS[name];
  return spec === undefined ? [] : [{ name, key: spec.key ?? name, spec, negated: flagOf(name).startsWith("--no-") }];
});

function shapeOf(where: ReadonlyArray<FileKey["where"]>): Record<string, z.ZodType> {
  const FILE_VALUES = fileValues();
  return Object.fromEntries(
    FILE_OPTIONS.filter((o) => where.includes(o.spec.where)).map((o) => {
      const value = typeof o.spec.value === "string" ? FILE_VALUES[o.spec.value] : z.enum(o.spec.value as [string, ...string[]]);
      return [o.key, value.optional()];
    }),
  );
}

function buildConfigFileSchema() {
  // Every target names its profile (the one key a target must have).
  const TargetSchema = z.strictObject({ ...shapeOf(["target", "both"]), profile: text().min(1) });
  return z.strictObject({
    ...shapeOf(["both", "global"]),
    targets: z.array(TargetSchema).min(1, "a config file needs at least one target"),
  });
}
/** Built when the first config file is read, not at start: a run without --config never needs it. */
let ConfigFileSchema: ReturnType<typeof buildConfigFileSchema> | undefined;
/** Keys and value types are checked by the schema; the values are read as raw options (layerOptions). */
export type ConfigFile = Record<string, unknown> & { targets: Array<Record<string, unknown> & { profile: string }> };

/** Read only when trusted, regular and at most 4 MiB (flag-file.ts); every problem is 64. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  const got = await readFlagFile("--config", path);
  if (got.kind === "unusable") throw new UsageError(`--config ${path}: ${got.problem}`);
  return parseConfigFile(got.text, path);
}

export function parseConfigFile(text: string, path: string): ConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${describeError(err)}`);
  }
  ConfigFileSchema ??= buildConfigFileSchema();
  const parsed = ConfigFileSchema.safeParse(json);
  if (!parsed.success) throw new UsageError(`config file ${path}: ${describeZodError(parsed.error, "(top level)")}`);
  const file: ConfigFile = parsed.data;
  const profiles = file.targets.map((t) => t.profile);
  const twice = profileGivenTwice(profiles);
  if (twice !== null) throw new UsageError(`config file ${path}: profile ${profiles[twice[0]]} appears in two targets; one hail per profile`);
  return file;
}

/** Every target names its profile (the schema requires it, and the command line may not). */
type Layered<T> = T & Partial<RawOptions> & { profile: string };

/** The options that name a target (`--gate-job`, `--profile` …): the file's targets list them. */
const TARGET_FLAGS = FILE_OPTIONS.filter((o) => o.spec.where === "target").map((o) => o.name);

/**
 * The one layering of options, for every command that reads a config file: one set of raw
 * options per target, weakest first: commander's defaults, the file's global options, the
 * target's own, then the flags `typed` on the command line (an operator's flag wins, e.g.
 * `--log-level debug` or `--oneshot` for a one-off run).
 */
export function layerOptions<T extends Partial<RawOptions>>(file: ConfigFile, values: T, typed: (name: string) => boolean, path: string): Array<Layered<T>> {
  const given = TARGET_FLAGS.filter((k) => (values as Partial<Record<OptionName, unknown>>)[k] !== undefined && typed(k));
  if (given.length > 0) {
    throw new UsageError(`--config ${path} lists the targets; drop ${given.map((k) => flagOf(k)).join(", ")} from the command line`);
  }
  const defaults = Object.fromEntries(Object.entries(values).filter(([key]) => !typed(key)));
  const cli = Object.fromEntries(Object.entries(values).filter(([key]) => typed(key)));
  const { targets, ...global } = file;
  return targets.map((target) => ({ ...defaults, ...fromFile(global), ...fromFile(target), ...cli }) as Layered<T>);
}

/** File keys are option names but where the table says otherwise: `noRollback` is `--no-rollback`. */
function fromFile(options: Record<string, unknown>): Partial<RawOptions> {
  const raw: Record<string, unknown> = {};
  for (const option of FILE_OPTIONS) {
    const value = options[option.key];
    if (value === undefined) continue;
    raw[option.name] = option.negated ? !value : value;
  }
  return raw;
}
