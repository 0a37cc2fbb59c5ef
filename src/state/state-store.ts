// state: The state store: reading, checking and writing a profile's state file.
import { lstatSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { EnvironmentError, EXIT, HailError } from "../errors.js";
import { describeZodError } from "../zod-error.js";
import { writeFileAtomic } from "./atomic-write.js";
import { withShortLock } from "./lock.js";
import type { State } from "./schema.js";
import { emptyState, StateSchema } from "./schema.js";
import { checkStateDir, prepareStateDir } from "./state-dir.js";
import { readTrusted } from "../trusted-file.js";

/** A state file hail cannot read is never overwritten: the operator decides (exit 64). */
export class StateFileError extends HailError {
  readonly exitCode = EXIT.usage;
  readonly kind = "usage" as const;
}

/**
 * A state file is a few KiB (failure marks and counters are capped): one over 1 MiB is not
 * hail's, and is refused by its size before it is read.
 */
export const MAX_STATE_BYTES = 1024 ** 2;

export interface StateStore {
  readonly file: string;
  /** the state on disk, or a fresh one when there is no file yet */
  read(): Promise<State>;
  /**
   * read, change, write atomically, under the state file's own short lock: a daemon writing
   * every pass and a `hail hold` at the same moment both land, neither is lost
   */
  update(change: (state: State) => State): Promise<State>;
}

/**
 * `legacyFile`: where an older hail kept this profile's state (keyed by the name under
 * --profiles-dir). It is read while the new file does not exist yet, and moved to the new
 * name by the first update, when it belongs to this profile: holds, failure marks and
 * counters carry over.
 */
export function createStateStore(file: string, profile: { name: string; path: string }, legacyFile: string | null = null): StateStore {
  // Every pass reads the state (a `hail hold` may have changed it); an unchanged file — same
  // inode, size, mtime and ctime (a chmod or chown changes the ctime): hail replaces it by
  // rename — is not checked, read and parsed again. The lstat is synchronous: it takes
  // microseconds, less than a round trip through libuv's thread pool.
  let cached: { key: string; state: State } | null = null;
  const read = async (): Promise<State> => {
    checkStateDir(dirname(file));
    const info = lstatSync(file, { throwIfNoEntry: false });
    if (info === undefined) return (await readLegacy()) ?? emptyState(profile.name, profile.path);
    const key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.mode}:${info.uid}`;
    if (cached?.key === key) return cached.state;
    const state = await readStateFile(file);
    if (state === null) return (await readLegacy()) ?? emptyState(profile.name, profile.path);
    cached = { key, state };
    return state;
  };
  /** The legacy file's state when it is this profile's (an older hail shared it between profiles). */
  const readLegacy = async (): Promise<State | null> => {
    if (legacyFile === null || legacyFile === file) return null;
    const state = await readStateFile(legacyFile);
    return state !== null && resolve(state.profilePath) === resolve(profile.path) ? state : null;
  };
  return {
    file,
    read,
    async update(change) {
      await prepareStateDir(dirname(file));
      return withShortLock(`${file}.lock`, "state update", async () => {
        cached = null; // read what is on disk now, not what an earlier read saw
        const before = await read();
        const next = change(before);
        await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`, 0o600);
        // moved, not copied: once the new file exists the legacy one is not read again
        if (legacyFile !== null && legacyFile !== file && (await readLegacy()) !== null) await rm(legacyFile, { force: true });
        return next;
      });
    },
  };
}

/**
 * A state file, read only when it is trusted (owned by root or hail's user, writable by
 * nobody else), regular (a FIFO would block the read for ever) and at most 1 MiB; null when
 * there is none. A planted one is refused (73): it could name any process group to kill, or
 * any directory's bin/deactivate to run.
 */
export async function readStateFile(file: string): Promise<State | null> {
  const got = await readTrusted(file, { maxBytes: MAX_STATE_BYTES, followLink: false });
  if (got.kind === "missing") return null;
  if (got.kind === "refused") {
    throw new EnvironmentError(`state file ${file}: refused: ${got.refusal.why}; hail leaves it as it is: ${got.refusal.fix} (or move it away to start afresh)`, EXIT.cannotCreate);
  }
  return parseState(got.text, file);
}

export function parseState(text: string, file: string): State {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StateFileError(`state file ${file} is not valid JSON; hail leaves it as it is: inspect it, then move it away to start afresh`);
  }
  const version = typeof json === "object" && json !== null && "version" in json ? json.version : undefined;
  if (version !== 1) {
    throw new StateFileError(
      `state file ${file} has version ${JSON.stringify(version)}, this hail reads version 1; ` +
        `it may have been written by a newer hail: upgrade hail, or move the file away to start afresh`,
    );
  }
  const parsed = StateSchema.safeParse(json);
  if (!parsed.success) {
    throw new StateFileError(
      `state file ${file} is damaged (${describeZodError(parsed.error, "(top level)")}); hail leaves it as it is: inspect it, then move it away to start afresh`,
    );
  }
  return parsed.data;
}
