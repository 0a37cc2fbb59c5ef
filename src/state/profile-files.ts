import { ProfileLocked } from "../errors.js";
import type { ProfileRef } from "../nix/profile-path.js";
import { acquireLock } from "./lock.js";
import { stateFiles } from "./profile-key.js";
import { prepareStateDir, refuseEmptyStateDir } from "./state-dir.js";
import type { StateStore } from "./state-store.js";
import { createStateStore } from "./state-store.js";

/** The state store of a profile: STATE_DIR/<profile-key>.json (README, "Files"). */
export function stateStoreFor(profile: ProfileRef, stateDir: string): StateStore {
  refuseEmptyStateDir(stateDir);
  const legacy = stateFiles(stateDir, profile.legacyStateKey).state;
  return createStateStore(stateFiles(stateDir, profile.stateKey).state, profile, legacy);
}

/** Takes the profile's lock or throws ProfileLocked (exit 75) naming the holder. */
export async function lockProfile(profile: ProfileRef, stateDir: string, command: string) {
  await prepareStateDir(stateDir);
  const file = stateFiles(stateDir, profile.stateKey).lock;
  const lock = await acquireLock(file, command);
  if (lock.kind === "held") {
    const { holder } = lock;
    throw new ProfileLocked(
      `profile ${profile.name} is locked by another hail (pid ${holder.pid} on ${holder.hostname}, ${holder.command}, since ${holder.since}); ` +
        `lock file ${file}. One hail per profile: stop the other one, or wait for it to finish`,
    );
  }
  return lock;
}
