import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { hasErrnoCode } from "../errno.js";
import { HailError } from "../errors.js";
import { describeZodError } from "../hydra/schema.js";
import { writeFileAtomic } from "./atomic-write.js";
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
  /** read, change, write atomically; every writer re-reads so a `hail hold` is never lost */
  update(change: (state: State) => State): Promise<State>;
}

export function createStateStore(file: string, profile: { name: string; path: string }): StateStore {
  const read = async (): Promise<State> => {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if (hasErrnoCode(err, "ENOENT")) return emptyState(profile.name, profile.path);
      throw err;
    }
    return parseState(text, file);
  };
  return {
    file,
    read,
    async update(change) {
      const next = change(await read());
      await mkdir(dirname(file), { recursive: true });
      await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`);
      return next;
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
