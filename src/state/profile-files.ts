import { ProfileLocked, UsageError } from "../errors.js";
import type { ProfileRef } from "../nix/profile-path.js";
import { acquireLock } from "./lock.js";
import { stateFiles } from "./profile-key.js";
import type { StateStore } from "./state-store.js";
import { createStateStore } from "./state-store.js";

/** The state store of a profile (SPEC §4: STATE_DIR/<profile-key>.json). */
export function stateStoreFor(profile: ProfileRef, stateDir: string): StateStore {
  refuseEmptyStateDir(stateDir);
  const legacy = stateFiles(stateDir, profile.legacyStateKey).state;
  return createStateStore(stateFiles(stateDir, profile.stateKey).state, profile, legacy);
}

/** Takes the profile's lock or throws ProfileLocked (exit 75) naming the holder. */
export async function lockProfile(profile: ProfileRef, stateDir: string, command: string) {
  refuseEmptyStateDir(stateDir);
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

/** An empty --state-dir would mean the current directory: never what an operator wants. */
function refuseEmptyStateDir(stateDir: string): void {
  if (stateDir.trim() === "") throw new UsageError("--state-dir is empty: give the directory for state and lock files (default /var/lib/hail)");
}
