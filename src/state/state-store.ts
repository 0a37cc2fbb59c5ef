import { mkdir, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { hasErrnoCode } from "../errno.js";
import { HailError } from "../errors.js";
import { describeZodError } from "../hydra/schema.js";
import { writeFileAtomic } from "./atomic-write.js";
import { withShortLock } from "./lock.js";
import type { State } from "./schema.js";
import { emptyState, StateSchema } from "./schema.js";

/** A state file hail cannot read is never overwritten: the operator decides (exit 64). */
export class StateFileError extends HailError {
  readonly exitCode = 64;
  readonly kind = "usage" as const;
}

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

export function createStateStore(file: string, profile: { name: string; path: string }): StateStore {
  // Every pass reads the state (a `hail hold` may have changed it); an unchanged file — same
  // inode, size and mtime: hail replaces it by rename — is not read and parsed again.
  let cached: { key: string; state: State } | null = null;
  const read = async (): Promise<State> => {
    let text: string;
    let key: string;
    try {
      const info = await stat(file);
      key = `${info.ino}:${info.size}:${info.mtimeMs}`;
      if (cached?.key === key) return cached.state;
      text = await readFile(file, "utf8");
    } catch (err) {
      if (hasErrnoCode(err, "ENOENT")) return emptyState(profile.name, profile.path);
      throw err;
    }
    const state = parseState(text, file);
    cached = { key, state };
    return state;
  };
  return {
    file,
    read,
    async update(change) {
      await mkdir(dirname(file), { recursive: true });
      return withShortLock(`${file}.lock`, "state update", async () => {
        cached = null; // read what is on disk now, not what an earlier read saw
        const next = change(await read());
        await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`, 0o600);
        return next;
      });
    },
  };
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
