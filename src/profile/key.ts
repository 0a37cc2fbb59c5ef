// profile: A profile's key: the names of its state and lock files under --state-dir.
import { join, relative, resolve } from "node:path";

/**
 * The file-name key of a profile's state and lock files: the profile's absolute path, so two
 * profiles with the same name under different --profiles-dir never share a state file or a
 * lock, and `--profile myapp` and `--profile /nix/var/nix/profiles/myapp` share one. "%" and
 * "/" are escaped so that no two paths collide (`/nix/var/nix/profiles/myapp` becomes
 * `nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp`). The path is taken as written, not resolved through
 * symlinks: two spellings of one profile keep two state files, as they always did (the lock
 * beside the profile, profile-lock.ts, keeps them from deploying at once).
 *
 * A key longer than MAX_KEY_BYTES (a valid long profile name: a file name may have 255 bytes,
 * and `.KEY.json.PID.MS.tmp` must fit) is its readable start, "%-" and a hash of all of it.
 * "%-" never occurs in an escaped path (its "%" are "%25" or "%2F"), so a shortened key
 * never equals another path's key; every key that fits is today's, so existing state files
 * keep their names.
 */
export function profileKey(profilePath: string): string {
  return fitKey(escapeKey(resolve(profilePath).replace(/^\/+/, "")), MAX_KEY_BYTES);
}

/** The key before it named the absolute path: the name relative to --profiles-dir. */
export function legacyProfileKey(profilePath: string, profilesDir: string): string {
  const rel = relative(profilesDir, profilePath);
  // Only read (an older hail's file is moved to the new key): any name that fits may exist.
  return fitKey(escapeKey(rel !== "" && !rel.startsWith("..") && !rel.startsWith("/") ? rel : profilePath), MAX_LEGACY_KEY_BYTES);
}

/** The longest file name (in bytes) of ext4, XFS, btrfs and tmpfs. */
export const NAME_MAX = 255;
/** 255 bytes less the longest name made from a key: the state file's temporary `.KEY.json.<pid: 7 digits>.<ms: 13>.tmp` */
const MAX_KEY_BYTES = 223;
/** 255 bytes less `.json` */
const MAX_LEGACY_KEY_BYTES = 250;

function escapeKey(name: string): string {
  return name.replace(/%/g, "%25").replace(/\//g, "%2F");
}

function fitKey(key: string, max: number): string {
  // an escape cut in half ("%2") would only make the key harder to read
  return fitName(key, max, "%-", (start) => start.replace(/%2?$/, ""));
}

/**
 * `name` when it has at most `max` bytes; otherwise its longest start that leaves room,
 * `marker`, and 32 hex digits of the SHA-256 of all of `name` (collision-free in practice).
 */
export function fitName(name: string, max: number, marker: string, tidy: (start: string) => string = (s) => s): string {
  if (Buffer.byteLength(name) <= max) return name;
  const hash = process.getBuiltinModule("node:crypto").createHash("sha256").update(name).digest("hex").slice(0, 32);
  return `${tidy(truncateBytes(name, max - marker.length - hash.length))}${marker}${hash}`;
}

/** The longest start of `text` of at most `max` bytes in UTF-8, cut between characters. */
function truncateBytes(text: string, max: number): string {
  let out = "";
  let bytes = 0;
  for (const ch of text) {
    bytes += Buffer.byteLength(ch);
    if (bytes > max) break;
    out += ch;
  }
  return out;
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
