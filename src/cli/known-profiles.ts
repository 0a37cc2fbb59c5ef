// cli: An unknown profile named to status, hold or release: the known ones listed to spot a typo.
import type { Dirent } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { hasErrnoCode } from "../errno.js";
import { UsageError } from "../errors.js";
import type { ProfileRef } from "../profile/path.js";
import { stateFiles } from "../profile/key.js";
import { checkStateDir, refuseEmptyStateDir } from "../state/state-dir.js";
import { readStateFile } from "../state/state-store.js";

/** How many known profiles an error lists: enough to spot a typo, short enough for one line. */
const MAX_LISTED = 10;
/** State files read to learn their profiles' names; a state dir with more is not hail's alone. */
const MAX_STATE_FILES_READ = 50;

/**
 * `status`, `hold` and `release` act only on a profile hail can know: one with a profile link,
 * or with hail state (SPEC section 9). A typo (`hail hold myap`) would otherwise write state
 * for a profile that does not exist and exit 0, and a cron job would never learn of it.
 * `hint` says how to go on anyway (hold's `--new`), or is null.
 */
export async function refuseUnknownProfile(profile: ProfileRef, stateDir: string, profilesDir: string, hint: string | null): Promise<void> {
  refuseEmptyStateDir(stateDir);
  checkStateDir(stateDir); // a state dir another user can write is refused (73) before anything is read from it
  const files = [stateFiles(stateDir, profile.stateKey).state, stateFiles(stateDir, profile.legacyStateKey).state];
  for (const path of [profile.path, ...files]) if (await present(path)) return;
  const known = await knownProfiles(profilesDir, stateDir);
  const listed = known.length === 0 ? `hail knows no profile under --profiles-dir ${profilesDir} or --state-dir ${stateDir}` : `profiles hail knows there: ${listNames(known)}`;
  throw new UsageError(`profile ${profile.name} is unknown: no profile link ${profile.path} and no hail state for it in ${stateDir}; ${listed}`, hint);
}

/** Anything at the path counts (a later step says what is wrong with it); only "no such file" is absent. */
async function present(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    return !hasErrnoCode(err, "ENOENT") && !hasErrnoCode(err, "ENOTDIR");
  }
}

/** Profile links under the profiles dir (not their generations) and the profiles of the state files, sorted. */
export async function knownProfiles(profilesDir: string, stateDir: string): Promise<string[]> {
  const links = (await entries(profilesDir)).filter((e) => e.isSymbolicLink() && !/-\d+-link$/.test(e.name)).map((e) => e.name);
  const stateNames: string[] = [];
  const jsons = (await entries(stateDir)).filter((e) => e.isFile() && e.name.endsWith(".json") && !e.name.startsWith("."));
  for (const entry of jsons.slice(0, MAX_STATE_FILES_READ)) {
    try {
      const state = await readStateFile(`${stateDir}/${entry.name}`);
      if (state !== null) stateNames.push(state.profile);
    } catch {
      // a damaged or untrusted state file is another command's business; it names nothing here
    }
  }
  return [...new Set([...links, ...stateNames])].sort();
}

/** `a, b, c` or `a, b, … (and 4 more)`. */
export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED).join(", ");
  return names.length > MAX_LISTED ? `${shown} (and ${names.length - MAX_LISTED} more)` : shown;
}

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return []; // a dir that is not there knows no profile; the command's own checks report it
  }
}
