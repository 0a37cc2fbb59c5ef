/**
 * Typed errors for the unexpected. Each carries the exit code of SPEC §3 and the
 * error kind used in logs and metrics; only the CLI entry turns them into exits.
 */
import { redactSecrets } from "./secrets.js";

export type ErrorKind =
  | "usage"
  | "invalid_response"
  | "unavailable"
  | "not_ready"
  | "locked"
  | "nix"
  | "activation"
  | "internal";

export abstract class HailError extends Error {
  abstract readonly exitCode: number;
  abstract readonly kind: ErrorKind;
  override readonly name: string = this.constructor.name;
  /** Messages end up in logs, the state file, /healthz and plan output: no credential gets in. */
  constructor(message: string) {
    super(redactSecrets(message));
  }
}

/** Bad flags, bad config, a missing file the operator named: exit 64. */
export class UsageError extends HailError {
  readonly exitCode = 64;
  readonly kind = "usage" as const;
}

/** Hydra answered, but with something hail cannot trust: exit 65. */
export class InvalidResponse extends HailError {
  readonly exitCode = 65;
  readonly kind = "invalid_response" as const;
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(`invalid response from ${url}: ${detail}`);
  }
}

/** Hydra could not be reached or refused us (5xx, 401/403, timeout): exit 69. */
export class HydraUnavailable extends HailError {
  readonly exitCode = 69;
  readonly kind = "unavailable" as const;
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(`Hydra unavailable at ${url}: ${detail}`);
  }
}

/** Nothing deployable yet (404, unfinished or failed build): exit 75. */
export class NotReady extends HailError {
  readonly exitCode = 75;
  readonly kind = "not_ready" as const;
}

/** Another hail holds the profile's lock: exit 75. */
export class ProfileLocked extends HailError {
  readonly exitCode = 75;
  readonly kind = "locked" as const;
}

/** A nix command failed (realise, switch): exit 1. */
export class NixCommandFailed extends HailError {
  readonly exitCode = 1;
  readonly kind = "nix" as const;
}

/** bin/activate or the health check failed or timed out: exit 1. */
export class ActivationFailed extends HailError {
  readonly exitCode = 1;
  readonly kind = "activation" as const;
}

/** A bug or an unforeseen system error, wrapped so the daemon logs it and goes on: exit 70. */
export class InternalError extends HailError {
  readonly exitCode = 70;
  readonly kind = "internal" as const;
  constructor(cause: unknown) {
    super(`unexpected error: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
  }
}
