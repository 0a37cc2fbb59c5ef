import { isAbsolute, join, normalize } from "node:path";
import { UsageError } from "../errors.js";
import { legacyProfileKey, profileKey } from "../state/profile-key.js";

export const DEFAULT_PROFILES_DIR = "/nix/var/nix/profiles";

export interface ProfileRef {
  /** as the operator named it: the `profile` label in logs and metrics */
  name: string;
  /** the profile symlink hail switches */
  path: string;
  /** names its state and lock files under --state-dir (state/profile-key.ts) */
  stateKey: string;
  /** where an older hail kept its state: the name relative to --profiles-dir */
  legacyStateKey: string;
}

/** SPEC §1: a name lives under --profiles-dir and may nest; an absolute path is used as is. */
export function resolveProfile(name: string, profilesDir: string): ProfileRef {
  if (name === "") throw new UsageError("--profile: empty profile name");
  if (isAbsolute(name)) {
    if (name.split("/").includes("..")) {
      throw new UsageError(`--profile ${name}: ".." is not allowed in a profile path`);
    }
    // A trailing slash (tab completion adds one) would make readlink see a directory.
    return profileRef(name, normalize(name).replace(/(.)\/+$/, "$1"), profilesDir);
  }
  const segments = name.split("/");
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new UsageError(
        `--profile ${name}: profile names may nest with "/" but not contain empty, "." or ".." segments`,
      );
    }
  }
  return profileRef(name, join(profilesDir, ...segments), profilesDir);
}

function profileRef(name: string, path: string, profilesDir: string): ProfileRef {
  return { name, path, stateKey: profileKey(path), legacyStateKey: legacyProfileKey(path, profilesDir) };
}
