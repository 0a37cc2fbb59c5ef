// cli: What `run` and `plan` act on: one target from flags, or every target of a config file.
import type { Command } from "commander";
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import { layerOptions, loadConfigFile } from "./config-file.js";
import { profileGivenTwice } from "./one-per-profile.js";
import type { AgentConfig } from "../agent/config.js";
import type { RawOptions } from "./options.js";
import { toAgentConfig } from "./options.js";

/** What `run` and `plan` act on: one target from flags, or every target of a config file. */
export interface TargetSet {
  configs: AgentConfig[];
  /** absolute path of --config, when given */
  configFile: string | null;
}

export async function targetsFromOptions(raw: RawOptions & { config?: string }, cmd: Command | null): Promise<TargetSet> {
  const tty = process.stderr.isTTY === true;
  if (raw.config === undefined) return { configs: [toAgentConfig(raw, tty)], configFile: null };
  const file = await loadConfigFile(raw.config);
  const { config: _path, ...defaults } = raw;
  const rawTargets = layerOptions(file, defaults, typedIn(cmd), raw.config);
  if (rawTargets.length === 0) throw new UsageError(`config file ${raw.config} has no targets`);
  const configs = rawTargets.map((r, i) => inConfigFile(raw.config ?? "", i, r.profile, () => toAgentConfig(r, tty)));
  // The same profile named twice (once by name, once by path) would lock itself out.
  const paths = configs.map((c) => c.target.profile.path);
  const twice = profileGivenTwice(paths);
  if (twice !== null) {
    const [first, again] = twice;
    throw new UsageError(`config file ${raw.config}: targets ${first} and ${again} are the same profile ${paths[again]}; one hail per profile`);
  }
  return { configs, configFile: resolve(raw.config) };
}

/** A target's own errors name the file and the target, so the operator knows where to look. */
export function inConfigFile<T>(file: string, index: number, profile: string | undefined, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`config file ${file}, targets[${index}] (profile ${profile ?? "?"}): ${err.message}`, err.hint);
    throw err;
  }
}

/** Options the operator typed override the file's (docs/reference.md, "Config file"); the rest are defaults. */
function typedIn(cmd: Command | null): (name: string) => boolean {
  return (name) => cmd !== null && cmd.getOptionValueSource(name) === "cli";
}
