import { join, relative, resolve } from "node:path";

/**
 * The file-name key of a profile's state and lock files: the profile's absolute path, so two
 * profiles with the same name under different --profiles-dir never share a state file or a
 * lock, and `--profile myapp` and `--profile /nix/var/nix/profiles/myapp` share one. "%" and
 * "/" are escaped so that no two paths collide (`/nix/var/nix/profiles/myapp` becomes
 * `nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp`).
 */
export function profileKey(profilePath: string): string {
  return escapeKey(resolve(profilePath).replace(/^\/+/, ""));
}

/** The key before it named the absolute path: the name relative to --profiles-dir. */
export function legacyProfileKey(profilePath: string, profilesDir: string): string {
  const rel = relative(profilesDir, profilePath);
  return escapeKey(rel !== "" && !rel.startsWith("..") && !rel.startsWith("/") ? rel : profilePath);
}

function escapeKey(name: string): string {
  return name.replace(/%/g, "%25").replace(/\//g, "%2F");
}

export interface StateFiles {
  state: string;
  lock: string;
}

/** The state and lock files of the profile with this key: always side by side. */
export function stateFiles(stateDir: string, key: string): StateFiles {
  return { state: join(stateDir, `${key}${STATE_SUFFIX}`), lock: join(stateDir, `${key}.lock`) };
}

const STATE_SUFFIX = ".json";

/** The key a state file's name holds (`KEY.json`), or null for another file. */
export function keyOfStateFile(name: string): string | null {
  return name.endsWith(STATE_SUFFIX) && !name.startsWith(".") ? name.slice(0, -STATE_SUFFIX.length) : null;
}
