/**
 * The Hydra HTTP client: GETs with `Accept: application/json`, redirects handled here (only
 * on the configured base), bounded retries for transient failures, every body schema-checked,
 * and for a private Hydra a login session (session.ts). Failures are typed errors (exit codes
 * in docs/reference.md, "Exit codes"); nothing here logs.
 */
// First: hail's Headers, Request and Response must be in place before ky is loaded (web-globals.ts).
import "./web-globals.js";
import { setTimeout as delay } from "node:timers/promises";
import ky, { type KyInstance } from "ky";
import { httpFetch } from "./http-fetch.js";
import type { z } from "zod";
import { HydraUnavailable, InvalidResponse, UsageError } from "../errors.js";
import { passwordCredentials, rememberCredentials } from "../secrets.js";
import { serverText } from "../server-text.js";
import { pathCarriesCredential, refuseCredentialEcho } from "./credential-echo.js";
import { buildIdFromPath, jobUrlFromPath, urlOnBase, type JobUrl } from "./job-url.js";
import {
  checkStatus,
  hydraSays,
  isRetryableStatus,
  isTimeout,
  networkErrorText,
  readBodyBytes,
  parseJsonBody,
  refuseBotWall,
  parseRetryAfter,
  REDIRECT_STATUSES,
  redirectTarget,
} from "./response.js";
import { BuildSchema, ConstituentsSchema, describeZodError, JobsetSchema, LatestBuildsSchema, serverKey, type HydraBuild } from "./schema.js";
import { HydraSession, type HydraLogin, type LoginAnswer, type LoginRequest } from "./session.js";
import { formatDuration } from "../duration.js";

export interface HydraClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Extra attempts after a network error, HTTP 5xx or 429. Default 2. */
  retries?: number;
  /** Backoff before retry n is retryDelayMs × 2^(n-1). Default 500. */
  retryDelayMs?: number;
  /** Cap on a Retry-After header. Default 10 s: `Retry-After: 86400` must not stall a daemon. */
  maxRetryAfterMs?: number;
  /** Larger answers are refused (InvalidResponse) without reading further. Default 32 MiB. */
  maxResponseBytes?: number;
  /** Sent as HTTP Basic on every request (all requests go to the base host). */
  credentials?: { login: string; password: string };
  /** A private Hydra: log in with POST /login before the first request, and again on a 403. */
  login?: HydraLogin;
  onRequest?: (info: { method: string; url: string }) => void;
  /** A job moved (Hydra's 301 for a renamed jobset): hail follows it; the operator should update the URL. */
  onMoved?: (info: { from: string; to: string }) => void;
  /** Waits between retries; tests pass a recorder. Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

const MAX_REDIRECTS = 5;
/** A build path whose id buildIdFromPath refused: beyond 2^53, no build can have it. */
const ABSURD_BUILD_PATH = /\/build\/\d+(?:\/.*)?$/;
/** Fits the constituents of a large aggregate many times over. */
const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

const SAME_BASE_HINT =
  "hail follows redirects only on its configured Hydra URL; " +
  "if a proxy redirects http:// to https://, configure the https:// URL";

/** What `latest` answered: the build id, and the job it is of (another after a jobset rename). */
export interface Latest {
  id: number;
  job: JobUrl;
}

/** Where a request chain ended: a redirect naming a build, or an answer to read. */
type Landed = { kind: "build"; id: number; url: string } | { kind: "answer"; url: string; response: Response };

export class HydraClient {
  readonly #baseUrl: string;
  readonly #http: KyInstance;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  /** The timer of each answer not read yet: cleared once its body is read or dropped. */
  readonly #deadlines = new WeakMap<Response, NodeJS.Timeout>();
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #onRequest: HydraClientOptions["onRequest"];
  readonly #onMoved: HydraClientOptions["onMoved"];
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #session: HydraSession | undefined;

  constructor(opts: HydraClientOptions) {
    const base = new URL(opts.baseUrl);
    if (base.username !== "" || base.password !== "") {
      throw new UsageError(`the Hydra URL for ${base.host} contains credentials; put them in a netrc file instead`);
    }
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = opts.timeoutMs;
    this.#maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#retries = opts.retries ?? 2;
    this.#retryDelayMs = opts.retryDelayMs ?? 500;
    this.#maxRetryAfterMs = opts.maxRetryAfterMs ?? 10_000;
    this.#onRequest = opts.onRequest;
    this.#onMoved = opts.onMoved;
    this.#sleep = opts.sleep ?? ((ms) => delay(ms));
    if (opts.credentials !== undefined) rememberCredentials(passwordCredentials(opts.credentials.login, opts.credentials.password));
    const auth = opts.credentials === undefined ? {} : { authorization: basicAuth(opts.credentials) };
    // Retries are ours (ky retries 5xx only by throwing); redirects are ours (see #follow).
    // Requests go over node:http (http-fetch.ts): Node's fetch costs a one-shot ~100 ms to start.
    this.#http = ky.create({
      fetch: httpFetch,
      headers: { accept: "application/json", ...auth },
      redirect: "manual",
      throwHttpErrors: false,
      retry: 0,
      timeout: false,
    });
    this.#session =
      opts.login === undefined ? undefined : new HydraSession(this.#baseUrl, opts.login, (request) => this.#postLogin(request));
  }

  /**
   * GET `JOB/latest[-finished]`: the build id from the redirect (the build is not fetched), and
   * the job the answer is for: a 301 for a renamed jobset is followed.
   */
  async latest(job: JobUrl, which: "latest" | "latest-finished"): Promise<Latest> {
    let answered = job;
    const landed = await this.#follow(`${this.#baseUrl}/job/${job.project}/${job.jobset}/${job.job}/${which}`, (from, to) => {
      const moved = jobUrlFromPath(this.#baseUrl, new URL(to).pathname);
      if (moved === undefined || moved.url === answered.url) return;
      answered = moved;
      this.#onMoved?.({ from, to: moved.url });
    });
    if (landed.kind === "build") return { id: landed.id, job: answered };
    // A proxy that follows redirects itself hands us the build instead.
    return { id: (await this.#read(landed.url, landed.response, BuildSchema)).id, job: answered };
  }

  /** GET /jobset/P/JS: resolves when the jobset exists; a 404 throws HydraNotFound with Hydra's text. */
  async getJobset(job: JobUrl): Promise<void> {
    await this.#getJson(`${this.#baseUrl}/jobset/${job.project}/${job.jobset}`, JobsetSchema);
  }

  /** GET /api/latestbuilds: the job names of the newest finished builds of the jobset, or of its one job. */
  async latestBuildJobs(job: JobUrl, opts: { onlyThisJob: boolean; count: number }): Promise<string[]> {
    const query = new URLSearchParams({ nr: String(opts.count), project: job.project, jobset: job.jobset });
    if (opts.onlyThisJob) query.set("job", job.job);
    return (await this.#getJson(`${this.#baseUrl}/api/latestbuilds?${query.toString()}`, LatestBuildsSchema)).map((b) => b.job);
  }

  async getBuild(id: number): Promise<HydraBuild> {
    const url = `${this.#baseUrl}/build/${id}`;
    const build = await this.#getJson(url, BuildSchema);
    if (build.id !== id) throw new InvalidResponse(url, `answered with build ${build.id} instead of build ${id}`);
    return build;
  }

  getConstituents(id: number): Promise<HydraBuild[]> {
    return this.#getJson(`${this.#baseUrl}/build/${id}/constituents`, ConstituentsSchema);
  }

  /**
   * GET a whole file by its URL on this client's base (a signed release's manifest and .sig):
   * the same deadline, size bound, retries, credentials and redirect rules as every Hydra
   * request. A 404 throws HydraNotFound, as for Hydra's own pages.
   */
  async getFile(url: string): Promise<Uint8Array> {
    const landed = await this.#answer(url);
    const body = await this.#bytes(landed.url, landed.response);
    checkStatus(landed.url, landed.response.status, new TextDecoder().decode(body));
    return body;
  }

  async #getJson<T>(url: string, schema: z.ZodType<T>): Promise<T> {
    const landed = await this.#answer(url);
    return this.#read(landed.url, landed.response, schema);
  }

  /** The answer a request chain ends with; a redirect to a build is not one here. */
  async #answer(url: string): Promise<Extract<Landed, { kind: "answer" }>> {
    const landed = await this.#follow(url);
    if (landed.kind === "build") {
      throw new InvalidResponse(url, `redirected to ${landed.url} instead of answering; ${SAME_BASE_HINT}`);
    }
    return landed;
  }

  /**
   * Follow redirects by path on the configured base until one names a build or an answer comes.
   * A redirect to a build may name any host (Hydra's idea of it, NixOS/hydra#1202); any other
   * redirect is followed only on the configured host.
   */
  async #follow(startUrl: string, onHop?: (from: string, to: string) => void): Promise<Landed> {
    let url = startUrl;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
      const response = await this.#get(url);
      if (!REDIRECT_STATUSES.has(response.status)) return { kind: "answer", url, response };
      await this.#discard(response);
      const { origin, path } = redirectTarget(url, response.status, response.headers.get("location"));
      // Every URL hail shows is its base plus paths like this one: none may carry a credential.
      if (pathCarriesCredential(path)) {
        throw new InvalidResponse(url, `HTTP ${response.status} redirects to a path that carries a credential hail sent; not following it`);
      }
      const next = urlOnBase(this.#baseUrl, path);
      const id = buildIdFromPath(path);
      if (id !== undefined) return { kind: "build", id, url: next };
      if (ABSURD_BUILD_PATH.test(path)) throw new InvalidResponse(url, "redirects to a build id beyond 2^53, which no Hydra build can have");
      if (next === url) throw new InvalidResponse(url, `redirects to itself on another address; ${SAME_BASE_HINT}`);
      if (origin !== new URL(this.#baseUrl).origin) {
        throw new InvalidResponse(url, `redirects to another host (${serverText(origin)}${path}); ${SAME_BASE_HINT} (a renamed jobset: use ${next})`);
      }
      onHop?.(url, next);
      url = next;
    }
    throw new InvalidResponse(
      startUrl,
      `more than ${MAX_REDIRECTS} redirects (the last to ${url}); open it in a browser`,
    );
  }

  /** A GET in the session, when there is one: a 403 means Hydra forgot it, so log in again once. */
  async #get(url: string): Promise<Response> {
    const session = this.#session;
    if (session === undefined) return this.#send(url);
    const cookie = await session.cookieHeader();
    const response = await this.#send(url, cookie);
    if (response.status !== 403) return response;
    // A bot wall's 403 is no forgotten session: logging in again would only meet the wall.
    refuseBotWall(url, 403, await this.#text(url, response));
    const again = await this.#send(url, await session.renew(cookie));
    if (again.status === 403) throw session.refusedAfterLogin(url, hydraSays(await this.#text(url, again)));
    return again;
  }

  /** One GET with retries; a retryable status on the last attempt is HydraUnavailable. */
  async #send(url: string, cookie?: string): Promise<Response> {
    const headers = cookie === undefined ? {} : { cookie };
    const response = await this.#attempts(url, "GET", (fetch) => this.#http.get(url, { fetch, headers }));
    if (!isRetryableStatus(response.status)) return response;
    const body = await this.#text(url, response);
    refuseBotWall(url, response.status, body);
    const says = hydraSays(body);
    throw new HydraUnavailable(url, `HTTP ${response.status}${says} (${this.#retries + 1} attempts); hail tries again later`);
  }

  /** The login POST, with the same retries; redirects are not followed (the 302 carries the cookie). */
  async #postLogin(request: LoginRequest): Promise<LoginAnswer> {
    const { url, headers, body } = request;
    const response = await this.#attempts(url, "POST", (fetch) => this.#http.post(url, { fetch, headers, body }));
    return { status: response.status, setCookies: response.headers.getSetCookie(), body: await this.#text(url, response) };
  }

  /**
   * One request with retries for network errors, 5xx and 429. A network failure on the last
   * attempt is HydraUnavailable; a retryable status on the last attempt is returned, not read.
   */
  async #attempts(url: string, method: string, request: (fetch: typeof httpFetch) => Promise<Response>): Promise<Response> {
    const attempts = this.#retries + 1;
    for (let attempt = 1; ; attempt += 1) {
      let response: Response;
      // The deadline covers the body too (#text). Not AbortSignal.timeout: nothing would hold
      // that signal while a body is read, and a collected signal takes its timer with it.
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new DOMException("request timed out", "TimeoutError")), this.#timeoutMs);
      timer.unref();
      try {
        this.#onRequest?.({ method, url });
        response = await request((input, init) => httpFetch(input, { ...init, signal: deadline.signal }));
        this.#deadlines.set(response, timer);
      } catch (err) {
        clearTimeout(timer);
        if (isTimeout(err)) throw this.#timeoutError(url);
        if (attempt >= attempts) {
          throw new HydraUnavailable(url, `${networkErrorText(err)} (${attempt} attempts)`).withHint(
            "check that Hydra and any proxy in front of it are up and reachable from here",
          );
        }
        await this.#sleep(this.#backoff(attempt));
        continue;
      }
      if (!isRetryableStatus(response.status) || attempt >= attempts) return response;
      await this.#discard(response);
      await this.#sleep(this.#retryDelay(attempt, response));
    }
  }

  #backoff(attempt: number): number {
    return this.#retryDelayMs * 2 ** (attempt - 1);
  }

  /** Retry-After when the server gives one, capped; otherwise exponential backoff. */
  #retryDelay(attempt: number, response: Response): number {
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"), Date.now());
    return retryAfter === undefined ? this.#backoff(attempt) : Math.min(retryAfter, this.#maxRetryAfterMs);
  }

  async #read<T>(url: string, response: Response, schema: z.ZodType<T>): Promise<T> {
    const body = await this.#text(url, response);
    checkStatus(url, response.status, body);
    const parsed = schema.safeParse(parseJsonBody(url, response.headers.get("content-type"), body));
    if (!parsed.success) {
      const fields = describeZodError(parsed.error, "(body)", serverKey);
      throw new InvalidResponse(url, `unexpected JSON (${fields}); is this a Hydra hail supports?`);
    }
    refuseCredentialEcho(url, parsed.data);
    return parsed.data;
  }

  /** The body, at most maxResponseBytes of it, within the request's deadline. */
  async #text(url: string, response: Response): Promise<string> {
    return new TextDecoder().decode(await this.#bytes(url, response));
  }

  async #bytes(url: string, response: Response): Promise<Uint8Array> {
    try {
      return await readBodyBytes(url, response, this.#maxResponseBytes);
    } catch (err) {
      if (err instanceof InvalidResponse) throw err;
      if (isTimeout(err)) throw this.#timeoutError(url);
      throw new HydraUnavailable(url, `the connection broke while reading the answer (${networkErrorText(err)})`);
    } finally {
      clearTimeout(this.#deadlines.get(response));
    }
  }

  /** An answer not needed: close it and stop its timer. */
  async #discard(response: Response): Promise<void> {
    clearTimeout(this.#deadlines.get(response));
    await response.body?.cancel();
  }

  #timeoutError(url: string): HydraUnavailable {
    return new HydraUnavailable(url, `no complete answer within ${formatDuration(this.#timeoutMs)}: Hydra may be overloaded`).withHint(
      "raise --timeout if it is just slow",
    );
  }
}

function basicAuth(credentials: { login: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.login}:${credentials.password}`, "utf8").toString("base64")}`;
}
