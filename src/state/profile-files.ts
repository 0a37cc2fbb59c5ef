// state: A profile's state store and its locks (state/lock.ts and the one beside the profile),
// taken together.
import { ProfileLocked, UsageError } from "../errors.js";
import type { ProfileRef } from "../profile/path.js";
import { describeHolder, heldBySelf, lockAdvice } from "./lock-holder.js";
import { lockProfileFiles } from "./profile-lock.js";
import { stateFiles } from "../profile/key.js";
import { prepareStateDir, refuseEmptyStateDir } from "./state-dir.js";
import type { StateStore } from "./state-store.js";
import { createStateStore } from "./state-store.js";

/** The state store of a profile: STATE_DIR/<profile-key>.json (docs/reference.md, "Files"). */
export function stateStoreFor(profile: ProfileRef, stateDir: string): StateStore {
  refuseEmptyStateDir(stateDir);
  const legacy = stateFiles(stateDir, profile.legacyStateKey).state;
  return createStateStore(stateFiles(stateDir, profile.stateKey).state, profile, legacy);
}

/**
 * Takes the profile's locks (STATE_DIR/<key>.lock and the one beside the profile,
 * profile-lock.ts) or throws ProfileLocked (exit 75) naming the holder and the lock file;
 * UsageError (64) when this very hail holds it, through another spelling of the profile's path.
 */
export async function lockProfile(profile: ProfileRef, stateDir: string, command: string) {
  await prepareStateDir(stateDir);
  const lock = await lockProfileFiles(stateFiles(stateDir, profile.stateKey).lock, profile.path, command);
  if (lock.kind === "acquired") return lock;
  const message = `profile ${profile.name} is locked by ${describeHolder(lock)}; lock file ${lock.file}. ${lockAdvice(lock)}`;
  // two targets of one config file that are one profile under two spellings: the config's mistake
  throw heldBySelf(lock) ? new UsageError(message) : new ProfileLocked(message);
}
