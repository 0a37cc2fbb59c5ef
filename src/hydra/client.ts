/**
 * The Hydra HTTP client: GETs with `Accept: application/json`, redirects handled here (only
 * on the configured base), bounded retries for transient failures, every body schema-checked.
 * Failures are typed errors (exit codes in SPEC §3); nothing here logs.
 */
import { setTimeout as sleep } from "node:timers/promises";
import ky, { type KyInstance } from "ky";
import type { z } from "zod";
import { HydraUnavailable, InvalidResponse, NotReady, UsageError } from "../errors.js";
import { buildIdFromPath, urlOnBase, type JobUrl } from "./job-url.js";
import { BuildSchema, ConstituentsSchema, describeZodError, HydraErrorBodySchema, type HydraBuild } from "./schema.js";

export interface HydraClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Extra attempts after a network error, HTTP 5xx or 429. Default 2. */
  retries?: number;
  /** Backoff before retry n is retryDelayMs × 2^(n-1). Default 500. */
  retryDelayMs?: number;
  /** Cap on a Retry-After header. Default 10 s: `Retry-After: 86400` must not stall a daemon. */
  maxRetryAfterMs?: number;
  /** Sent as HTTP Basic on every request (all requests go to the base host). */
  credentials?: { login: string; password: string };
  onRequest?: (info: { method: string; url: string }) => void;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_HYDRA_TEXT = 200;

type Landed = { kind: "build"; id: number; url: string } | { kind: "response"; url: string; response: Response };

export class HydraClient {
  readonly #baseUrl: string;
  readonly #http: KyInstance;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #onRequest: HydraClientOptions["onRequest"];

  constructor(opts: HydraClientOptions) {
    const base = new URL(opts.baseUrl);
    if (base.username !== "" || base.password !== "") {
      throw new UsageError(`the Hydra URL for ${base.host} contains credentials; put them in a netrc file instead`);
    }
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = opts.timeoutMs;
    this.#retries = opts.retries ?? 2;
    this.#retryDelayMs = opts.retryDelayMs ?? 500;
    this.#maxRetryAfterMs = opts.maxRetryAfterMs ?? 10_000;
    this.#onRequest = opts.onRequest;
    const auth = opts.credentials === undefined ? {} : { authorization: basicAuth(opts.credentials) };
    // Retries are ours (ky's do not cover 5xx without throwing); redirects are ours (see #follow).
    this.#http = ky.create({
      headers: { accept: "application/json", ...auth },
      redirect: "manual",
      throwHttpErrors: false,
      retry: 0,
      timeout: false,
    });
  }

  /** GET `JOB/latest[-finished]` and return the build id from the redirect, without fetching the build. */
  async resolveLatest(job: JobUrl, which: "latest" | "latest-finished"): Promise<number> {
    const url = `${this.#baseUrl}/job/${job.project}/${job.jobset}/${job.job}/${which}`;
    const landed = await this.#follow(url);
    if (landed.kind === "build") return landed.id;
    // A proxy that follows redirects itself hands us the build instead.
    return (await this.#readJson(landed.url, landed.response, BuildSchema)).id;
  }

  getBuild(id: number): Promise<HydraBuild> {
    return this.#getJson(`${this.#baseUrl}/build/${id}`, BuildSchema);
  }

  getConstituents(id: number): Promise<HydraBuild[]> {
    return this.#getJson(`${this.#baseUrl}/build/${id}/constituents`, ConstituentsSchema);
  }

  async #getJson<T>(url: string, schema: z.ZodType<T>): Promise<T> {
    const landed = await this.#follow(url);
    if (landed.kind === "build") {
      throw new InvalidResponse(url, `redirected to ${landed.url} instead of answering; ${SAME_BASE_HINT}`);
    }
    return this.#readJson(landed.url, landed.response, schema);
  }

  /** Follow redirects by path on the configured base until a build id or a non-redirect answer. */
  async #follow(startUrl: string): Promise<Landed> {
    let url = startUrl;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
      const response = await this.#send(url);
      if (!REDIRECT_STATUSES.has(response.status)) return { kind: "response", url, response };
      await response.body?.cancel();
      const path = locationPath(url, response);
      const next = urlOnBase(this.#baseUrl, path);
      const id = buildIdFromPath(path);
      if (id !== undefined) return { kind: "build", id, url: next };
      if (next === url) throw new InvalidResponse(url, `redirects to itself on another address; ${SAME_BASE_HINT}`);
      url = next;
    }
    throw new InvalidResponse(startUrl, `more than ${MAX_REDIRECTS} redirects (the last to ${url}); open the URL in a browser`);
  }

  /** One GET with retries for network errors, 5xx and 429; the final 5xx/429 becomes HydraUnavailable. */
  async #send(url: string): Promise<Response> {
    const attempts = this.#retries + 1;
    for (let attempt = 1; ; attempt += 1) {
      let response: Response;
      try {
        this.#onRequest?.({ method: "GET", url });
        response = await this.#http.get(url, { signal: AbortSignal.timeout(this.#timeoutMs) });
      } catch (err) {
        if (isTimeout(err)) throw this.#timeoutError(url);
        if (attempt >= attempts) {
          throw new HydraUnavailable(
            url,
            `${networkErrorText(err)} (${attempt} attempts); check that Hydra and any proxy in front of it are up and reachable from here`,
          );
        }
        await sleep(this.#retryDelayMs * 2 ** (attempt - 1));
        continue;
      }
      if (!isRetryableStatus(response.status)) return response;
      if (attempt >= attempts) {
        const says = hydraSays(await this.#readText(url, response));
        throw new HydraUnavailable(url, `HTTP ${response.status}${says} (${attempt} attempts); hail tries again at the next poll`);
      }
      await response.body?.cancel();
      await sleep(this.#retryDelay(attempt, response));
    }
  }

  #retryDelay(attempt: number, response: Response): number {
    const backoff = this.#retryDelayMs * 2 ** (attempt - 1);
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    return retryAfter === undefined ? backoff : Math.min(retryAfter, this.#maxRetryAfterMs);
  }

  async #readJson<T>(url: string, response: Response, schema: z.ZodType<T>): Promise<T> {
    const body = await this.#readText(url, response);
    checkStatus(url, response.status, body);
    const parsed = schema.safeParse(parseJsonBody(url, response, body));
    if (!parsed.success) {
      throw new InvalidResponse(url, `unexpected JSON (${describeZodError(parsed.error)}); is this a Hydra hail supports?`);
    }
    return parsed.data;
  }

  /** The timeout signal also covers the body, so a stalled body is a timeout too. */
  async #readText(url: string, response: Response): Promise<string> {
    try {
      return await response.text();
    } catch (err) {
      if (isTimeout(err)) throw this.#timeoutError(url);
      throw new HydraUnavailable(url, `the connection broke while reading the answer (${networkErrorText(err)})`);
    }
  }

  #timeoutError(url: string): HydraUnavailable {
    return new HydraUnavailable(url, `no complete answer within ${this.#timeoutMs} ms; Hydra may be overloaded (raise --timeout if it is just slow)`);
  }
}

const SAME_BASE_HINT =
  "hail follows redirects only on its configured Hydra URL; if a proxy redirects http:// to https://, configure the https:// URL";

function basicAuth(credentials: { login: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.login}:${credentials.password}`, "utf8").toString("base64")}`;
}

/** Only the path of Location counts; its host may be the proxy's view (NixOS/hydra#1202). */
function locationPath(url: string, response: Response): string {
  const location = response.headers.get("location");
  if (location === null || location.trim() === "") {
    throw new InvalidResponse(url, `HTTP ${response.status} redirect without a Location header`);
  }
  try {
    return new URL(location, url).pathname;
  } catch {
    throw new InvalidResponse(url, `HTTP ${response.status} redirect with an unparseable Location header`);
  }
}

function checkStatus(url: string, status: number, body: string): void {
  if (status >= 200 && status < 300) return;
  const says = hydraSays(body);
  if (status === 404) {
    throw new NotReady(`nothing deployable yet at ${url}${says || ": HTTP 404"}; hail tries again at the next poll (if this persists, check the job URL and that the job has a successful build)`);
  }
  if (status === 401 || status === 403) {
    throw new HydraUnavailable(url, `HTTP ${status}${says}: Hydra or a proxy in front of it wants a login; check the netrc credentials (--netrc-file) or --hydra-user`);
  }
  throw new InvalidResponse(url, `unexpected HTTP ${status}${says}`);
}

function parseJsonBody(url: string, response: Response, body: string): unknown {
  const type = response.headers.get("content-type") ?? "no content-type";
  if (type.includes("html") || /^\s*</.test(body)) {
    throw new InvalidResponse(url, `got an HTML page (${type}) instead of JSON; a login or error page from a proxy? open the URL in a browser`);
  }
  if (body.trim() === "") throw new InvalidResponse(url, "empty body instead of JSON");
  try {
    return JSON.parse(body);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InvalidResponse(url, `body is not valid JSON, truncated? (${body.length} characters; ${reason})`);
  }
}

/** `: Hydra says "…"` when the body is Hydra's JSON error, else "". Cut short and made printable. */
function hydraSays(body: string): string {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return "";
  }
  const parsed = HydraErrorBodySchema.safeParse(data);
  if (!parsed.success) return "";
  const text = parsed.data.error.replace(/[\u0000-\u001f\u007f]+/g, " ").trim().slice(0, MAX_HYDRA_TEXT);
  return `: Hydra says "${text}"`;
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
}

/** `ECONNREFUSED`, `ENOTFOUND`…: fetch puts the system error in `cause`. */
function networkErrorText(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  for (const candidate of [cause, err]) {
    if (typeof candidate === "object" && candidate !== null && "code" in candidate && typeof candidate.code === "string") {
      return `connection failed (${candidate.code})`;
    }
  }
  return `connection failed (${err instanceof Error ? err.message : String(err)})`;
}

/** Retry-After in seconds or as an HTTP date, in milliseconds; undefined when absent or unreadable. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
