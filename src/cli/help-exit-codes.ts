// cli: The exit codes in words, for `--help` and the reference page.
import { EXIT, combineExitCodes } from "../errors.js";

/**
 * What each exit code means and what to do about it, said once for `hail run --help`,
 * `hail plan --help`, hail(1) and docs/reference/exit-codes.md. Keyed by EXIT's names, so a new
 * code in src/errors.ts does not compile without its words here. Backticks mark code for the
 * Markdown page; plainText drops them for the terminal and the man page.
 */
export interface ExitCodeWords {
  /** everything the code stands for (the man page, the reference page) */
  readonly meaning: string;
  /** what an operator does about it */
  readonly todo: string;
  /** one line of --help: at most 70 characters */
  readonly short: string;
}

export type ExitName = keyof typeof EXIT;

export const EXIT_WORDS: Record<ExitName, ExitCodeWords> = {
  ok: {
    meaning:
      "done: the profile is at the selected build (deployed now or already); or hail was told to leave it (held, or changed by hand); or Hydra offers an older build than the one deployed (hail never goes backwards); or plan, status, hold or release succeeded",
    todo: "nothing",
    short: "done: deployed, already current, or told to leave the profile alone",
  },
  failed: {
    meaning:
      "a deployment failed (nix, activation, health check, not enough disk space) and was rolled back unless `--no-rollback`; also while the offered build is a known-bad one that is being skipped",
    todo: "read the `hail:` line and `hail status PROFILE`; a fixed build from Hydra is tried by itself, `hail release PROFILE --clear-failed` tries the same one again",
    short: "a deployment failed (and was rolled back), or a known-bad build waits",
  },
  pending: {
    meaning: "`plan --detailed-exitcode` only: a deployment is pending (also while a staged rollout holds it back)",
    todo: "nothing: it is the answer CI asked for; `hail run` would deploy",
    short: "plan --detailed-exitcode only: a deployment is pending",
  },
  usage: {
    meaning:
      "usage or configuration error, including a damaged state file and a config file with an unknown key; also a project, jobset or job that Hydra does not have, and a Hydra too old for `--gate-job` (no `/build/ID/constituents`); the message names what is missing",
    todo: "fix the flag, config file or job URL the message names (`hail COMMAND --help`); a damaged state file: inspect it, then move it away",
    short: "usage or configuration error: a flag, the config file, a job URL",
  },
  invalidResponse: {
    meaning:
      "invalid data from Hydra: not JSON, schema mismatch, an answer over 32 MiB, another build id than the one asked for, unsafe store path, constituent not in the gate (the message lists the constituents there are), two constituents with the selected name, no shared evaluation, a gate or job build of another project, jobset or job, a redirect to another host; with `--nixos`, an output that is not a NixOS system (marked failed, profile untouched)",
    todo: "check the gate job in Hydra (its constituents; the project, jobset and job of the URL) and any proxy in front of Hydra; a daemon asks again at the next poll",
    short: "invalid data from Hydra: not JSON, unsafe, or not what was asked",
  },
  unavailable: {
    meaning:
      "Hydra unavailable: connection refused, timeout, HTTP 5xx (after two retries), 401/403, a failed login; or the binary cache unreachable while realising (no failure mark: retried next poll)",
    todo: "check that Hydra, the binary cache and any proxy are up and reachable from this host, and the credentials (`--netrc-file`, `--hydra-user`)",
    short: "Hydra or the binary cache unavailable; retried at the next poll",
  },
  internal: {
    meaning: "an internal error (a bug)",
    todo: "report it, with the stack trace printed above the `hail:` line",
    short: "an internal error: a bug in hail, please report it",
  },
  cannotCreate: {
    meaning:
      "a file or directory hail must use cannot be: read-only file system, missing parent, permission, not a directory, a link loop, a name too long, a mount point (EROFS, EACCES, EPERM, ENOTDIR, ELOOP, ENAMETOOLONG, EBUSY …); or one hail does not trust: a state dir, state or lock file another user owns or can write, a FIFO or device, one over its size limit, a profile under a directory others can write or whose link does not lead to a store path; the message names the path and why",
    todo: "fix the path the message names: its permissions, its owner or its file system",
    short: "a file or directory hail must use cannot be used, or is not trusted",
  },
  ioError: {
    meaning: "an I/O or resource error that may pass: a full disk, too many open files (ENOSPC, EDQUOT, EIO, EMFILE …); the message names the path",
    todo: "free space, or raise the limit the message names, then run again",
    short: "an I/O or resource error that may pass: a full disk, too many files",
  },
  notReady: {
    meaning:
      "nothing deployable yet (Hydra's 404 \"no successful build\", the selected build unfinished or unsuccessful), this host's staged-rollout turn has not come, or another hail holds the profile's lock",
    todo: "wait: the next poll or run tries again; a lock's message names the pid that holds it",
    short: "nothing deployable yet, not this host's turn, or another hail's lock",
  },
};

/** Every exit code, lowest first. */
export const EXIT_NAMES: readonly ExitName[] = (Object.keys(EXIT) as ExitName[]).sort((a, b) => EXIT[a] - EXIT[b]);

/**
 * The codes in the order `--config` picks one for all targets, the most urgent first: asked of
 * combineExitCodes itself, so the page says what the code does.
 */
export function urgencyOrder(): number[] {
  const left = new Set<number>(Object.values(EXIT));
  const order: number[] = [];
  while (left.size > 0) {
    const next = combineExitCodes([...left]);
    // a code combineExitCodes never picks loses to every other, as 0 does
    if (!left.has(next)) return [...order, ...[...left].sort((a, b) => a - b)];
    order.push(next);
    left.delete(next);
  }
  return order;
}

/** Words for the terminal and roff: code marks dropped. */
export function plainText(text: string): string {
  return text.replaceAll("`", "");
}
