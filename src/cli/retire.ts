import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { TargetAgent } from "../agent/target-agent.js";
import { storeDirFromEnv } from "../deploy/store-path.js";
import { HailError } from "../errors.js";
import type { Log } from "../log.js";
import { readProfileTarget } from "../nix/profile.js";
import { createProcessRunner } from "../nix/runner.js";
import { acquireLock } from "../state/lock.js";
import type { State } from "../state/schema.js";
import { createStateStore, parseState } from "../state/state-store.js";
import { deployedBuildIdAt } from "../state/transitions.js";
import type { AgentConfig } from "./options.js";
import { pathExists } from "../path-exists.js";

/**
 * Service removal: a profile whose target was in this config file and is no longer there gets
 * its `bin/deactivate` run once (when it has one), and hail stops managing it. The profile and
 * its generations stay: removing software is the deactivation script's call, not hail's.
 * Only state files marked with this config file's path are touched, so two hails with
 * different config files can share a state directory.
 */
export async function retireRemovedTargets(agents: TargetAgent[], configFile: string, global: AgentConfig, log: Log): Promise<void> {
  const active = new Set(agents.map((a) => a.target.profile.path));
  for (const { file, state } of await managedStates(global.stateDir, log)) {
    if (state.managedBy !== configFile || state.retiredAt !== null || active.has(state.profilePath)) continue;
    await retire(file, state, global, log.child({ profile: state.profile }));
  }
}

async function managedStates(stateDir: string, log: Log): Promise<{ file: string; state: State }[]> {
  let names: string[];
  try {
    names = (await readdir(stateDir)).filter((n) => n.endsWith(".json") && !n.startsWith("."));
  } catch {
    return [];
  }
  const states: { file: string; state: State }[] = [];
  for (const name of names) {
    const file = join(stateDir, name);
    try {
      states.push({ file, state: parseState(await readFile(file, "utf8"), file) });
    } catch (err) {
      log.warn(`skipping ${file} while looking for removed targets: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return states;
}

async function retire(file: string, state: State, global: AgentConfig, log: Log): Promise<void> {
  const lock = await acquireLock(file.replace(/\.json$/, ".lock"), "retire");
  if (lock.kind === "held") {
    log.warn(`target ${state.profile} was removed from the config, but pid ${lock.holder.pid} holds its lock; leaving it for now`);
    return;
  }
  try {
    const deactivate = join(state.profilePath, "bin", "deactivate");
    if (await pathExists(deactivate)) {
      log.info(`target ${state.profile} was removed from the config: running ${deactivate}`);
      const current = await readProfileTarget(state.profilePath, storeDirFromEnv(process.env));
      const buildId = deployedBuildIdAt(state, current);
      const deactivation = log.child({ source: "deactivation" });
      await createProcessRunner().runActivation({ file: deactivate, args: [] }, "deactivation", {
        env: { HAIL_PROFILE: state.profilePath, HAIL_STORE_PATH: current ?? "", HAIL_BUILD_ID: buildId === null ? "" : String(buildId) },
        timeoutMs: global.activateTimeoutMs,
        onLine: (line) => deactivation.info(line),
      });
    } else {
      log.info(`target ${state.profile} was removed from the config; its profile has no bin/deactivate`);
    }
    await createStateStore(file, { name: state.profile, path: state.profilePath }).update((s) => ({ ...s, retiredAt: new Date().toISOString() }));
    log.info(`hail no longer manages ${state.profilePath} (${basename(file)} kept for the record)`);
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    log.error(`deactivating removed target ${state.profile} failed: ${err.message}; hail tries again at its next start`, { errorKind: err.kind });
  } finally {
    await lock.release();
  }
}
