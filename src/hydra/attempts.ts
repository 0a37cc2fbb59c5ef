/**
 * How hail tries one HTTP request, beside ky (which builds and sends it, and runs the hooks):
 * a deadline over the whole answer, body included; bounded retries for network errors, 5xx and
 * 429, with exponential backoff or a capped Retry-After; answers not needed dropped unread; a
 * size cap that refuses a Content-Length before the first byte. ky has options for each of
 * these (retry, timeout, maxResponseSize); docs/architecture.md ("The HTTP layer") says, with measurements,
 * why hail keeps its own: ky's timeout stops at the headers, its retry reads each answer it
 * retries (up to 10 MiB) and waits on a timer nothing can replace in a test, and its size cap
 * ignores Content-Length.
 */
import { setTimeout as delay } from "node:timers/promises";
import { formatDuration } from "../duration.js";
import { HydraUnavailable, InvalidResponse } from "../errors.js";
import type { FetchFunction } from "./http-fetch.js";
import { httpFetch } from "./http-fetch.js";
import { isRetryableStatus, isTimeout, networkErrorText, parseRetryAfter, readBodyBytes } from "./response.js";

export interface AttemptPolicy {
  timeoutMs: number;
  /** Extra attempts after a network error, HTTP 5xx or 429. Default 2. */
  retries?: number;
  /** Backoff before retry n is retryDelayMs × 2^(n-1). Default 500. */
  retryDelayMs?: number;
  /** Cap on a Retry-After header. Default 10 s: `Retry-After: 86400` must not stall a daemon. */
  maxRetryAfterMs?: number;
  /** Larger answers are refused (InvalidResponse) without reading further. Default 32 MiB. */
  maxResponseBytes?: number;
  /** Waits between retries; tests pass a recorder. Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** Fits the constituents of a large aggregate many times over. */
const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export class Attempts {
  /** Attempts per request: the first and its retries. */
  readonly count: number;
  readonly #timeoutMs: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #maxResponseBytes: number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** The timer of each answer not read yet: cleared once its body is read or dropped. */
  readonly #deadlines = new WeakMap<Response, NodeJS.Timeout>();

  constructor(policy: AttemptPolicy) {
    this.count = (policy.retries ?? 2) + 1;
    this.#timeoutMs = policy.timeoutMs;
    this.#retryDelayMs = policy.retryDelayMs ?? 500;
    this.#maxRetryAfterMs = policy.maxRetryAfterMs ?? 10_000;
    this.#maxResponseBytes = policy.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#sleep = policy.sleep ?? ((ms) => delay(ms));
  }

  /**
   * One request (`request` sends it with the fetch it is given) with retries for network
   * errors, 5xx and 429. A network failure on the last attempt is HydraUnavailable; a retryable
   * status on the last attempt is returned, not read.
   */
  async send(url: string, request: (fetch: FetchFunction) => Promise<Response>): Promise<Response> {
    for (let attempt = 1; ; attempt += 1) {
      let response: Response;
      // The deadline covers the body too (text, bytes). Not AbortSignal.timeout: nothing would
      // hold that signal while a body is read, and a collected signal takes its timer with it.
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new DOMException("request timed out", "TimeoutError")), this.#timeoutMs);
      timer.unref();
      try {
        response = await request((input, init) => httpFetch(input, { ...init, signal: deadline.signal }));
        this.#deadlines.set(response, timer);
      } catch (err) {
        clearTimeout(timer);
        if (isTimeout(err)) throw this.timeoutError(url);
        if (attempt >= this.count) {
          throw new HydraUnavailable(url, `${networkErrorText(err)} (${attempt} attempts)`).withHint(
            "check that Hydra and any proxy in front of it are up and reachable from here",
          );
        }
        await this.#sleep(this.#backoff(attempt));
        continue;
      }
      if (!isRetryableStatus(response.status) || attempt >= this.count) return response;
      await this.discard(response);
      await this.#sleep(this.#retryDelay(attempt, response));
    }
  }

  /** The body as text, at most maxResponseBytes of it, within the request's deadline. */
  async text(url: string, response: Response): Promise<string> {
    return new TextDecoder().decode(await this.bytes(url, response));
  }

  /** The body's exact bytes, at most maxResponseBytes of them, within the request's deadline. */
  async bytes(url: string, response: Response): Promise<Uint8Array> {
    try {
      return await readBodyBytes(url, response, this.#maxResponseBytes);
    } catch (err) {
      if (err instanceof InvalidResponse) throw err;
      if (isTimeout(err)) throw this.timeoutError(url);
      throw new HydraUnavailable(url, `the connection broke while reading the answer (${networkErrorText(err)})`);
    } finally {
      clearTimeout(this.#deadlines.get(response));
    }
  }

  /** An answer not needed: close it and stop its timer. */
  async discard(response: Response): Promise<void> {
    clearTimeout(this.#deadlines.get(response));
    await response.body?.cancel();
  }

  timeoutError(url: string): HydraUnavailable {
    return new HydraUnavailable(url, `no complete answer within ${formatDuration(this.#timeoutMs)}: Hydra may be overloaded`).withHint(
      "raise --timeout if it is just slow",
    );
  }

  #backoff(attempt: number): number {
    return this.#retryDelayMs * 2 ** (attempt - 1);
  }

  /** Retry-After when the server gives one, capped; otherwise exponential backoff. */
  #retryDelay(attempt: number, response: Response): number {
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"), Date.now());
    return retryAfter === undefined ? this.#backoff(attempt) : Math.min(retryAfter, this.#maxRetryAfterMs);
  }
}
