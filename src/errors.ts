/**
 * Typed errors for the unexpected. Each carries its exit code from the table below and the
 * error kind used in logs and metrics; only the CLI entry turns them into exits.
 */
import { systemErrorOf } from "./errno.js";

/** Every exit code hail uses (docs/reference.md, "Exit codes"), by what it means. */
export const EXIT = {
  /** done: deployed, already current, or told to leave the profile alone */
  ok: 0,
  /** a deployment failed now, or failed before and its build is being skipped */
  failed: 1,
  /** `plan --detailed-exitcode`: a deployment is pending */
  pending: 2,
  usage: 64,
  invalidResponse: 65,
  unavailable: 69,
  internal: 70,
  cannotCreate: 73,
  ioError: 74,
  /** nothing deployable yet, a staged rollout's turn to come, or another hail's lock */
  notReady: 75,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * One exit code for many targets: the most urgent failure wins. A configuration error first,
 * then a failed deployment, then Hydra's answers, then "not yet".
 */
const URGENCY: readonly ExitCode[] = [EXIT.usage, EXIT.internal, EXIT.cannotCreate, EXIT.ioError, EXIT.failed, EXIT.invalidResponse, EXIT.unavailable, EXIT.notReady, EXIT.pending];

export function combineExitCodes(codes: readonly number[]): number {
  for (const code of URGENCY) if (codes.includes(code)) return code;
  return EXIT.ok;
}

export type ErrorKind =
  | "usage"
  | "environment"
  | "invalid_response"
  | "unavailable"
  | "not_ready"
  | "locked"
  | "nix"
  | "activation"
  | "internal"
  | ReleaseRejectionKind;

/** Why a signed release was refused (src/release/): the `kind` of ReleaseRejected, logs and metrics. */
export type ReleaseRejectionKind =
  | "signature-missing"
  | "signature-invalid"
  | "signer-unknown"
  | "namespace-wrong"
  | "manifest-invalid"
  | "manifest-expired"
  | "job-mismatch"
  | "hydra-disagrees"
  | "replay";

export abstract class HailError extends Error {
  abstract readonly exitCode: ExitCode;
  abstract readonly kind: ErrorKind;
  override readonly name: string = this.constructor.name;
  /**
   * What to do about it, printed in parentheses after the message on the command's last
   * line, `hail: <what failed>: <why> (<hint>)`: a command that can be pasted as it is, or
   * a short instruction. Null when the message says it all.
   */
  hint: string | null;
  /**
   * Messages end up in logs, the state file, /healthz and plan output. They are hail's words
   * and never hold a credential; text a server chose enters them through serverText
   * (src/server-text.ts), redacted there.
   */
  constructor(message: string, hint: string | null = null) {
    super(message);
    this.hint = hint;
  }

  /** The same error with a hint (for a caller that knows the command to suggest). */
  withHint(hint: string | null): this {
    this.hint = hint;
    return this;
  }
}

/** Bad flags, bad config, a missing file the operator named: exit 64. */
export class UsageError extends HailError {
  readonly exitCode = EXIT.usage;
  readonly kind = "usage" as const;
}

/** Hydra answered, but with something hail cannot trust: exit 65. */
export class InvalidResponse extends HailError {
  readonly exitCode = EXIT.invalidResponse;
  readonly kind = "invalid_response" as const;
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(`invalid response from ${url}: ${detail}`);
  }
}

/**
 * A release manifest or its signature that hail will not deploy from (docs/signed-releases.md):
 * exit 65, nothing deployed, one line with the reason and the manifest's URL.
 */
export class ReleaseRejected extends HailError {
  readonly exitCode = EXIT.invalidResponse;
  constructor(
    readonly kind: ReleaseRejectionKind,
    readonly url: string,
    detail: string,
    hint: string | null = null,
  ) {
    super(`release ${url} refused: ${detail}`, hint);
  }
}

/** Hydra could not be reached or refused us (5xx, 401/403, timeout): exit 69. */
export class HydraUnavailable extends HailError {
  readonly exitCode = EXIT.unavailable;
  readonly kind = "unavailable" as const;
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(`Hydra unavailable at ${url}: ${detail}`);
  }
}

/** The binary cache could not be reached while realising (refused, 5xx, timeout): exit 69, retried. */
export class CacheUnavailable extends HailError {
  readonly exitCode = EXIT.unavailable;
  readonly kind = "unavailable" as const;
}

/** Nothing deployable yet (404, unfinished or failed build): exit 75. */
export class NotReady extends HailError {
  readonly exitCode = EXIT.notReady;
  readonly kind = "not_ready" as const;
}

/** Another hail holds the profile's lock: exit 75. */
export class ProfileLocked extends HailError {
  readonly exitCode = EXIT.notReady;
  readonly kind = "locked" as const;
}

/** A nix command failed (realise, switch): exit 1. */
export class NixCommandFailed extends HailError {
  readonly exitCode = EXIT.failed;
  readonly kind = "nix" as const;
}

/** bin/activate or the health check failed or timed out: exit 1. */
export class ActivationFailed extends HailError {
  readonly exitCode = EXIT.failed;
  readonly kind = "activation" as const;
}

/** A bug or an unforeseen system error, wrapped so the daemon logs it and goes on: exit 70. */
export class InternalError extends HailError {
  readonly exitCode = EXIT.internal;
  readonly kind = "internal" as const;
  constructor(cause: unknown) {
    super(`unexpected error: ${describeError(cause, "stack")}`);
  }
}

/** A deployment that failed and whose rollback failed too: exit 1, with both errors. */
export class DeploymentFailed extends HailError {
  readonly exitCode = EXIT.failed;
  constructor(
    message: string,
    readonly kind: ErrorKind,
  ) {
    super(message);
  }
}

/**
 * A command that ends non-zero without an exception of its own: a one-shot whose pass failed,
 * a plan with a failed target. It carries the command's exit code and the line that says why,
 * so that the CLI entry prints it as it prints every other failure.
 */
export class CommandFailed extends HailError {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly kind: ErrorKind,
    hint: string | null,
  ) {
    super(message, hint);
  }
}

/** An error's message (for a line in a log or the state file), or its stack where a bug must be traced. */
export function describeError(err: unknown, detail: "message" | "stack" = "message"): string {
  if (!(err instanceof Error)) return String(err);
  return detail === "stack" ? (err.stack ?? err.message) : err.message;
}

/**
 * The machine, not hail: a file or directory hail must create cannot be (73: read-only,
 * missing parent, permission) or an I/O error such as a full disk (74). Names the path.
 */
export class EnvironmentError extends HailError {
  readonly kind = "environment" as const;
  constructor(
    message: string,
    readonly exitCode: typeof EXIT.cannotCreate | typeof EXIT.ioError,
    hint: string | null = null,
  ) {
    super(message, hint);
  }
}

/**
 * The errno codes hail maps, and what each says after "it". 73: the path cannot be used as it
 * is, and trying again will not help until someone changes it (read-only, permission, wrong
 * type, a link loop, a name too long, a mount point). 74: an I/O or resource failure that may
 * pass (disk or quota full, a disk error, too many open files). Any other code is a bug (70).
 */
const CANNOT_CREATE: Record<string, string> = {
  EROFS: "is on a read-only file system",
  EACCES: "is not writable by this user (permission denied)",
  EPERM: "may not be changed (operation not permitted: an immutable attribute or a security policy?)",
  ENOTDIR: "has a parent that is not a directory",
  EISDIR: "is a directory",
  ENOTEMPTY: "is a directory that is not empty",
  ELOOP: "has too many levels of symbolic links (a symlink loop?)",
  ENAMETOOLONG: "has a name too long for the file system",
  EBUSY: "is busy (a mount point?)",
  EXDEV: "is on another file system than its directory (a bind mount?)",
  ENXIO: "is a special file with nothing behind it (a socket, or a FIFO or device without its other end)",
  ENODEV: "is a device this system cannot use",
};
const IO_ERROR: Record<string, string> = {
  ENOSPC: "no space left on the device: free some space",
  EDQUOT: "the disk quota is exhausted: free some space",
  EIO: "an I/O error: check the disk",
  EFBIG: "the file is too large for the file system",
  ESTALE: "a stale file handle (an NFS server gone?): check the mount",
  EMFILE: "hail has too many open files: raise its limit (ulimit -n, or LimitNOFILE= in its systemd unit)",
  ENFILE: "the system has too many open files: close some, or raise fs.file-max",
};

/** A Node system error as EnvironmentError (73/74), or null when it is none of those. */
function environmentErrorOf(err: unknown): EnvironmentError | null {
  const sys = systemErrorOf(err);
  if (sys === null) return null;
  const where = `${sys.path ?? "a file"}${sys.dest === null ? "" : ` to ${sys.dest}`}`;
  const doing = `cannot ${sys.syscall ?? "write"} ${where}`;
  // recursive mkdir says ENOENT when a parent cannot be made (a read-only file system)
  const cannot = sys.code === "ENOENT" && sys.syscall === "mkdir" ? "cannot be created: a parent is missing or read-only" : CANNOT_CREATE[sys.code];
  if (cannot !== undefined) return new EnvironmentError(`${doing}: it ${cannot} (${sys.code})`, EXIT.cannotCreate, "fix the path or its permissions");
  const io = IO_ERROR[sys.code];
  if (io !== undefined) return new EnvironmentError(`${doing}: ${io} (${sys.code})`, EXIT.ioError);
  return null;
}

/** Any thrown value as a HailError: typed ones as they are, the machine's as 73/74, the rest as a bug (70). */
export function asHailError(err: unknown): HailError {
  if (err instanceof HailError) return err;
  return environmentErrorOf(err) ?? new InternalError(err);
}

/** Errors that say nothing about the build: the attempt is closed without a failure mark and retried. */
export function isTransient(err: HailError): boolean {
  return err.exitCode === EXIT.unavailable || err.exitCode === EXIT.cannotCreate || err.exitCode === EXIT.ioError;
}
