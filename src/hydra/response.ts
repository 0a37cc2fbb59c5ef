/**
 * What an answer from Hydra (or a proxy in front of it) means: pure functions from status,
 * headers and body text to a value or a typed error. The client does the I/O.
 */
import { HydraUnavailable, InvalidResponse, describeError } from "../errors.js";
import { serverText } from "../server-text.js";
import { botWallText } from "./bot-wall.js";
import { HydraNotFound } from "./not-found.js";
import { HydraErrorBodySchema } from "./schema.js";

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Worth another attempt: overload and gateway trouble. Hydra reports some client errors as 500 too. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Where a redirect points: its origin (never userinfo) and path. Only the path is followed, on
 * the configured base; the host may be the proxy's view (NixOS/hydra#1202).
 */
export function redirectTarget(url: string, status: number, location: string | null): { origin: string; path: string } {
  if (location === null || location.trim() === "") {
    throw new InvalidResponse(url, `HTTP ${status} redirect without a Location header`);
  }
  try {
    const target = new URL(location, url);
    return { origin: target.origin, path: target.pathname };
  } catch {
    // The raw value is not repeated: it may carry userinfo.
    throw new InvalidResponse(url, `HTTP ${status} redirect with an unparseable Location header`);
  }
}

/** Throw the typed error for a non-2xx answer that is not retried (or no longer). */
export function checkStatus(url: string, status: number, body: string): void {
  if (status >= 200 && status < 300) return;
  refuseBotWall(url, status, body);
  const says = hydraSays(body);
  if (status === 404) {
    throw new HydraNotFound(
      url,
      hydraErrorText(body),
      `nothing deployable yet at ${url}${says || ": HTTP 404"}; hail tries again at the next poll ` +
        "(if this persists, check the job URL and that the job has a successful build)",
    );
  }
  if (status === 401 || status === 403) {
    throw new HydraUnavailable(
      url,
      `HTTP ${status}${says}: Hydra or a proxy in front of it wants a login; ` +
        "check the netrc credentials (--netrc-file), or for a private Hydra give --hydra-user and --hydra-password-file",
    );
  }
  throw new InvalidResponse(url, `unexpected HTTP ${status}${says}`);
}

/** A bot wall's challenge page, whatever its status, is HydraUnavailable saying so. */
export function refuseBotWall(url: string, status: number, body: string): void {
  const wall = botWallText(status, body);
  if (wall !== undefined) throw new HydraUnavailable(url, wall);
}

/** The body as JSON, refusing HTML pages (login or error pages of a proxy) and broken JSON. */
export function parseJsonBody(url: string, contentType: string | null, body: string): unknown {
  if (contentType?.includes("html") === true || /^\s*</.test(body)) {
    // A challenge page can come as a 200 too.
    refuseBotWall(url, 200, body);
    throw new InvalidResponse(
      url,
      `got an HTML page (${contentType ?? "no content-type"}) instead of JSON; ` +
        "a login or error page from a proxy? open the URL in a browser",
    );
  }
  if (body.trim() === "") throw new InvalidResponse(url, "empty body instead of JSON");
  try {
    return JSON.parse(body);
  } catch (err) {
    // V8 quotes a cut piece of the body in its message; a piece of an echoed secret must not get out.
    const reason = describeError(err).replace(/,? ".*"(\.\.\.)? is not valid JSON$/s, " (not valid JSON)");
    throw new InvalidResponse(url, `body is not valid JSON, truncated? (${body.length} characters; ${reason})`);
  }
}

/** `: Hydra says "…"` when the body is Hydra's JSON error, else "". Cut short and made printable. */
export function hydraSays(body: string): string {
  const text = hydraErrorText(body);
  return text === null ? "" : `: Hydra says "${text}"`;
}

/** The text of Hydra's JSON error body, cut short and made printable; null for any other body. */
function hydraErrorText(body: string): string | null {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return null;
  }
  const parsed = HydraErrorBodySchema.safeParse(data);
  if (!parsed.success) return null;
  return serverText(parsed.data.error);
}

/** Retry-After in seconds or as an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Our per-request timeout (AbortSignal.timeout) or ky's. */
export function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
}

/**
 * `connection failed (ECONNREFUSED)`: the system error code sits down the `cause` chain
 * (ky's NetworkError wraps fetch's TypeError, which wraps the socket's error).
 */
export function networkErrorText(err: unknown): string {
  return `connection failed (${causeCode(err) ?? describeError(err)})`;
}

/** The first `code` along the cause chain, at most a few links deep. */
function causeCode(err: unknown): string | undefined {
  let value: unknown = err;
  for (let depth = 0; depth < 5 && value !== undefined; depth++) {
    const code = errorCode(value);
    if (code !== undefined) return code;
    value = value instanceof Error ? value.cause : undefined;
  }
  return undefined;
}

function errorCode(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || !("code" in value)) return undefined;
  return typeof value.code === "string" ? value.code : undefined;
}

/**
 * The body's exact bytes (a signed file is verified over them; text is decoded by the caller),
 * refusing one larger than `maxBytes` without reading further: a Content-Length beyond it is
 * refused before the first byte, and the bytes are counted as they come (a server may send no
 * length, or a wrong one).
 */
export async function readBodyBytes(url: string, response: Response, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = (what: string) =>
    new InvalidResponse(url, `answer ${what} is larger than the ${formatMiB(maxBytes)} hail reads; refused without reading further`);
  const body = response.body;
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await body?.cancel();
    throw tooLarge(`(Content-Length ${declared})`);
  }
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel();
      throw tooLarge("body");
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

function formatMiB(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
