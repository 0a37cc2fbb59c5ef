// state: The state directory: where it is, its mode, and refusing an untrusted one.
import { statSync } from "node:fs";
import { join } from "node:path";
import { EnvironmentError, EXIT, UsageError } from "../errors.js";
import type { Refusal } from "../trusted-file.js";
import { ensureDirectory, runningUid, untrusted } from "../trusted-file.js";
import { xdgStateHome } from "../xdg.js";

/**
 * The state dir holds what root hail acts on (which build is deployed, holds, the process
 * group of a running activation, the config file a profile belongs to): a file another user
 * could put there would steer root. Made 0700 whatever the umask (its files are 0600, and
 * nobody else needs to list them); an existing one may keep its mode (systemd's
 * StateDirectoryMode=0750 is fine) as long as nobody but root or hail's user can write it.
 */
export const STATE_DIR_MODE = 0o700;

/** Root's state dir when --state-dir is not given (the NixOS module's StateDirectory). */
export const ROOT_STATE_DIR = "/var/lib/hail";

/**
 * --state-dir when not given: /var/lib/hail for root, as always; `$XDG_STATE_HOME/hail`
 * (~/.local/state/hail) for any other user, who cannot create /var/lib/hail (a Home Manager
 * profile deployed by its own user, `--home-manager`). Decided at run time, not in the option
 * table: the man page, built as a build user, must not print that user's home.
 */
export function defaultStateDir(uid: number = runningUid(), env: NodeJS.ProcessEnv = process.env, home?: () => string): string {
  return uid === 0 ? ROOT_STATE_DIR : join(xdgStateHome(env, home), "hail");
}

/** The state dir of a command: the one given, else the default for the user hail runs as. */
export function stateDirOf(given: string | undefined): string {
  return given ?? defaultStateDir();
}

/** Makes the state dir, or checks the one there is, before any state or lock file is touched. */
export async function prepareStateDir(stateDir: string): Promise<void> {
  refuseEmptyStateDir(stateDir);
  const refusal = await ensureDirectory(stateDir, STATE_DIR_MODE, true);
  if (refusal !== null) throw stateDirRefused(stateDir, refusal);
}

/**
 * Before reading state: a state dir that is there must be trusted (one that is not there
 * yet holds no state). Synchronous, as the state file's own check: an idle pass stays off
 * libuv's thread pool.
 */
export function checkStateDir(stateDir: string): void {
  const info = statSync(stateDir, { throwIfNoEntry: false });
  if (info === undefined) return;
  const refusal = untrusted(info, "directory", runningUid());
  if (refusal !== null) throw stateDirRefused(stateDir, refusal);
}

const TRUST_RULE = "hail trusts a state dir only when root (or the user it runs as) owns it and nobody else can write it";

function stateDirRefused(stateDir: string, refusal: Refusal): EnvironmentError {
  return new EnvironmentError(
    `state dir ${stateDir}: refused: ${refusal.why}; ${refusal.kind === "trust" ? `${TRUST_RULE}: ` : ""}${refusal.fix}`,
    EXIT.cannotCreate,
  );
}

/** An empty --state-dir would mean the current directory: never what an operator wants. */
export function refuseEmptyStateDir(stateDir: string): void {
  if (stateDir.trim() === "") throw new UsageError("--state-dir is empty: give the directory for state and lock files (default /var/lib/hail as root, $XDG_STATE_HOME/hail for another user)");
}
