import { join, relative, resolve } from "node:path";
import type { ProfileRef } from "../nix/profile-path.js";

/**
 * The file-name key of a profile's state and lock files: the profile's absolute path, so two
 * profiles with the same name under different --profiles-dir never share a state file or a
 * lock, and `--profile myapp` and `--profile /nix/var/nix/profiles/myapp` share one. "%" and
 * "/" are escaped so that no two paths collide (`/nix/var/nix/profiles/myapp` becomes
 * `nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp`).
 */
export function profileKey(profile: ProfileRef): string {
  return escapeKey(resolve(profile.path).replace(/^\/+/, ""));
}

/** The key before it named the absolute path: the name relative to --profiles-dir. */
export function legacyProfileKey(profile: ProfileRef, profilesDir: string): string {
  const rel = relative(profilesDir, profile.path);
  return escapeKey(rel !== "" && !rel.startsWith("..") && !rel.startsWith("/") ? rel : profile.path);
}

function escapeKey(name: string): string {
  return name.replace(/%/g, "%25").replace(/\//g, "%2F");
}

export interface StateFiles {
  state: string;
  lock: string;
}

export function stateFiles(stateDir: string, key: string): StateFiles {
  return { state: join(stateDir, `${key}.json`), lock: join(stateDir, `${key}.lock`) };
}
