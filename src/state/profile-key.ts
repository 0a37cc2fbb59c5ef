import { join, relative } from "node:path";
import type { ProfileRef } from "../nix/profile-path.js";

/**
 * The file-name key of a profile's state and lock files. It comes from the resolved path, so
 * `--profile myapp` and `--profile /nix/var/nix/profiles/myapp` share one lock; "/" and "%"
 * are escaped so that nested names cannot collide.
 */
export function profileKey(profile: ProfileRef, profilesDir: string): string {
  const rel = relative(profilesDir, profile.path);
  const name = rel !== "" && !rel.startsWith("..") && !rel.startsWith("/") ? rel : profile.path;
  return name.replace(/%/g, "%25").replace(/\//g, "%2F");
}

export interface StateFiles {
  state: string;
  lock: string;
}

export function stateFiles(stateDir: string, key: string): StateFiles {
  return { state: join(stateDir, `${key}.json`), lock: join(stateDir, `${key}.lock`) };
}
