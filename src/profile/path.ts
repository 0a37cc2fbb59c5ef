// profile: A profile named by the operator: where it lives (--profiles-dir or absolute) and its
// name in logs.
import { basename, isAbsolute, join, normalize } from "node:path";
import { EXIT, EnvironmentError, UsageError } from "../errors.js";
import { legacyProfileKey, profileKey } from "./key.js";

export const DEFAULT_PROFILES_DIR = "/nix/var/nix/profiles";

export interface ProfileRef {
  /** as the operator named it: the `profile` label in logs and metrics */
  name: string;
  /** the profile symlink hail switches */
  path: string;
  /** names its state and lock files under --state-dir (profile/key.ts) */
  stateKey: string;
  /** where an older hail kept its state: the name relative to --profiles-dir */
  legacyStateKey: string;
}

/** A name lives under --profiles-dir and may nest; an absolute path is used as is. */
export function profileRefOf(name: string, profilesDir: string): ProfileRef {
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

/**
 * nix-env makes a generation as `NAME-N-link.tmp-PID-RANDOM` beside the profile, then renames
 * it: with a generation number up to 6 digits, a pid up to 7 and a random int up to 10, that
 * is 35 bytes more than the name, and a file name has at most 255 bytes. Refused at once
 * rather than failing inside nix-env, where it would look like a failed build.
 */
export const MAX_PROFILE_NAME_BYTES = 220;

function profileRef(name: string, path: string, profilesDir: string): ProfileRef {
  const last = basename(path);
  const bytes = Buffer.byteLength(last);
  if (bytes > MAX_PROFILE_NAME_BYTES) {
    throw new EnvironmentError(
      `--profile ${name}: its last part is ${bytes} bytes; nix-env makes temporary links named "<name>-<generation>-link.tmp-<pid>-<random>" ` +
        `beside the profile, which would pass the file system's 255-byte limit on a name (ENAMETOOLONG): ` +
        `use at most ${MAX_PROFILE_NAME_BYTES} bytes, or nest the name (a/b)`,
      EXIT.cannotCreate,
    );
  }
  return { name, path, stateKey: profileKey(path), legacyStateKey: legacyProfileKey(path, profilesDir) };
}
