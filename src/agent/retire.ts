// agent: Retiring targets removed from the config file: their bin/deactivate runs once and hail
// stops managing them; the profiles stay.
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { hailEnv } from "../deploy/hail-env.js";
import { storeDirFromEnv } from "../resolve/store-path.js";
import { EXIT, HailError, asHailError, describeError } from "../errors.js";
import type { Log } from "../log.js";
import { runnableStorePath } from "../profile/trust.js";
import { readProfileTarget } from "../profile/links.js";
import { nodeProfileFs } from "../profile/fs.js";
import { createProcessRunner } from "../nix/runner.js";
import { describeHolder } from "../state/lock-holder.js";
import { lockProfileFiles } from "../state/profile-lock.js";
import type { StateFiles } from "../profile/key.js";
import { keyOfStateFile, stateFiles } from "../profile/key.js";
import type { State } from "../state/schema.js";
import { createStateStore, readStateFile } from "../state/state-store.js";
import { deployedBuildIdAt } from "../state/transitions.js";
import { pathExists } from "../path-exists.js";
import type { RetiredTarget } from "../metrics/exposition.js";
import type { AgentConfig } from "./config.js";
import type { TargetAgent } from "./target-agent.js";

/**
 * Service removal: a profile whose target was in this config file and is no longer there gets
 * its `bin/deactivate` run once (when it has one), and hail stops managing it. The profile and
 * its generations stay: removing software is the deactivation script's call, not hail's.
 * Only state files marked with this config file's path are touched, so two hails with
 * different config files can share a state directory.
 */
export async function retireRemovedTargets(agents: TargetAgent[], configFile: string, global: AgentConfig, log: Log): Promise<void> {
  const active = new Set(agents.map((a) => a.target.profile.path));
  const retired: RetiredTarget[] = [];
  for (const { files, state } of await managedStates(global.stateDir, log)) {
    if (state.managedBy !== configFile || active.has(state.profilePath)) continue;
    const retiredAt = state.retiredAt ?? (await retire(files, state, global, log.child({ profile: state.profile })));
    if (retiredAt !== null) retired.push({ profile: state.profile, retiredAt });
  }
  // the metrics say these went on purpose (fleet.ts, RETIRED_SHOWN_MS)
  const fleet = agents[0]?.fleet;
  if (fleet !== undefined) fleet.retired = retired;
}

async function managedStates(stateDir: string, log: Log): Promise<{ files: StateFiles; state: State }[]> {
  let keys: string[];
  try {
    keys = (await readdir(stateDir)).map(keyOfStateFile).filter((k) => k !== null);
  } catch {
    return [];
  }
  const states: { files: StateFiles; state: State }[] = [];
  for (const key of keys) {
    const files = stateFiles(stateDir, key);
    try {
      // read as the profile's own store reads it: a planted file (another user's, or one
      // others can write) is refused, so its managedBy and profilePath run no bin/deactivate
      const state = await readStateFile(files.state);
      if (state !== null) states.push({ files, state });
    } catch (err) {
      log.warn(`skipping ${files.state} while looking for removed targets: ${describeError(err)}`);
    }
  }
  return states;
}

/** When the target was retired, or null when it could not be (tried again at the next start). */
async function retire(files: StateFiles, state: State, global: AgentConfig, log: Log): Promise<string | null> {
  // Both of the profile's locks: a hail with another state dir may be deploying it right now.
  // One that cannot be taken (a planted lock file, EACCES) leaves this target for the next start.
  const lock = await lockProfileFiles(files.lock, state.profilePath, "retire", false).catch(asHailError);
  if (lock instanceof HailError) {
    if (lock.exitCode === EXIT.internal) throw lock;
    log.error(`cannot take the lock of removed target ${state.profile}: ${lock.message}; hail tries again at its next start`, { errorKind: lock.kind });
    return null;
  }
  if (lock.kind === "held") {
    log.warn(`target ${state.profile} was removed from the config, but ${describeHolder(lock)} holds its lock ${lock.file}; leaving it for now`);
    return null;
  }
  try {
    const deactivate = join(state.profilePath, "bin", "deactivate");
    if (await pathExists(deactivate)) {
      // the same rule as for bin/activate: only from a store path, through trusted directories
      await runnableStorePath(state.profilePath, storeDirFromEnv(process.env), nodeProfileFs);
      log.info(`target ${state.profile} was removed from the config: running ${deactivate}`);
      const current = await readProfileTarget(state.profilePath, storeDirFromEnv(process.env));
      const buildId = deployedBuildIdAt(state, current);
      const deactivation = log.child({ source: "deactivation" });
      await createProcessRunner().runActivation({ file: deactivate, args: [] }, "deactivation", {
        env: hailEnv(state.profilePath, current, buildId),
        timeoutMs: global.activateTimeoutMs,
        onLine: (line) => deactivation.info(line),
      });
    } else {
      log.info(`target ${state.profile} was removed from the config; its profile has no bin/deactivate`);
    }
    const retiredAt = new Date().toISOString();
    await createStateStore(files.state, { name: state.profile, path: state.profilePath }).update((s) => ({ ...s, retiredAt }));
    log.info(`hail no longer manages ${state.profilePath} (${basename(files.state)} kept for the record)`);
    return retiredAt;
  } catch (err) {
    if (!(err instanceof HailError)) throw err;
    log.error(`deactivating removed target ${state.profile} failed: ${err.message}; hail tries again at its next start`, { errorKind: err.kind });
    return null;
  } finally {
    await lock.release();
  }
}
