/**
 * The Hydra HTTP client: GETs with `Accept: application/json`, redirects handled here (only
 * on the configured base), every body schema-checked, and for a private Hydra a login session
 * (session.ts). ky builds each request (the base headers and credentials merged in) and runs
 * the hooks (onRequest); attempts.ts gives each request its deadline and retries, and
 * http-fetch.ts carries it. Failures are typed errors (exit codes in docs/reference.md, "Exit
 * codes"); nothing here logs.
 */
// First: hail's Headers, Request and Response must be in place before ky is loaded (web-globals.ts).
import "./web-globals.js";
import ky, { type KyInstance } from "ky";
import { Attempts, type AttemptPolicy } from "./attempts.js";
import { httpFetch } from "./http-fetch.js";
import type { z } from "zod";
import { HydraUnavailable, InvalidResponse, UsageError } from "../errors.js";
import { passwordCredentials, rememberCredentials } from "../secrets.js";
import { serverText } from "../server-text.js";
import { pathCarriesCredential, refuseCredentialEcho } from "./credential-echo.js";
import { buildIdFromPath, jobUrlFromPath, urlOnBase, type JobUrl } from "./job-url.js";
import { checkStatus, hydraSays, isRetryableStatus, parseJsonBody, refuseBotWall, REDIRECT_STATUSES, redirectTarget } from "./response.js";
import { BuildSchema, ConstituentsSchema, describeZodError, JobsetSchema, LatestBuildsSchema, serverKey, type HydraBuild } from "./schema.js";
import { HydraSession, type HydraLogin, type LoginAnswer, type LoginRequest } from "./session.js";

/** The deadline, retries and size cap of every request (attempts.ts), and what this client is for. */
export interface HydraClientOptions extends AttemptPolicy {
  baseUrl: string;
  /** Sent as HTTP Basic on every request (all requests go to the base host). */
  credentials?: { login: string; password: string };
  /** A private Hydra: log in with POST /login before the first request, and again on a 403. */
  login?: HydraLogin;
  /** Each attempt, as it is sent (a ky hook). */
  onRequest?: (info: { method: string; url: string }) => void;
  /** A job moved (Hydra's 301 for a renamed jobset): hail follows it; the operator should update the URL. */
  onMoved?: (info: { from: string; to: string }) => void;
}

const MAX_REDIRECTS = 5;
/** A build path whose id buildIdFromPath refused: beyond 2^53, no build can have it. */
const ABSURD_BUILD_PATH = /\/build\/\d+(?:\/.*)?$/;

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
  readonly #attempts: Attempts;
  readonly #onMoved: HydraClientOptions["onMoved"];
  readonly #session: HydraSession | undefined;

  constructor(opts: HydraClientOptions) {
    const base = new URL(opts.baseUrl);
    if (base.username !== "" || base.password !== "") {
      throw new UsageError(`the Hydra URL for ${base.host} contains credentials; put them in a netrc file instead`);
    }
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.#attempts = new Attempts(opts);
    this.#onMoved = opts.onMoved;
    if (opts.credentials !== undefined) rememberCredentials(passwordCredentials(opts.credentials.login, opts.credentials.password));
    const auth = opts.credentials === undefined ? {} : { authorization: basicAuth(opts.credentials) };
    const { onRequest } = opts;
    // ky sends each attempt (the fetch it is given carries that attempt's deadline, attempts.ts);
    // retries, deadlines and the size cap are hail's (docs/architecture.md, "The HTTP layer", says why), and
    // so are redirects (SPEC 2.1: the build id from Location, see #follow).
    this.#http = ky.create({
      // each attempt passes its own (attempts.ts); without a default ky would read Node's fetch, which loads undici
      fetch: httpFetch,
      headers: { accept: "application/json", ...auth },
      redirect: "manual",
      throwHttpErrors: false,
      retry: 0,
      timeout: false,
      // the URL as hail wrote it (context), not as Request normalised it: the one messages name
      hooks: onRequest === undefined ? {} : { beforeRequest: [({ request, options }) => void onRequest({ method: request.method, url: String(options.context["url"]) })] },
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
    const body = await this.#attempts.bytes(landed.url, landed.response);
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
      await this.#attempts.discard(response);
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
    const response = await this.#attempts.send(url, (fetch) => this.#http.get(url, { fetch, headers, context: { url } }));
    if (!isRetryableStatus(response.status)) return response;
    const body = await this.#text(url, response);
    refuseBotWall(url, response.status, body);
    const says = hydraSays(body);
    throw new HydraUnavailable(url, `HTTP ${response.status}${says} (${this.#attempts.count} attempts); hail tries again later`);
  }

  /** The login POST, with the same retries; redirects are not followed (the 302 carries the cookie). */
  async #postLogin(request: LoginRequest): Promise<LoginAnswer> {
    const { url, headers, body } = request;
    const response = await this.#attempts.send(url, (fetch) => this.#http.post(url, { fetch, headers, body, context: { url } }));
    return { status: response.status, setCookies: response.headers.getSetCookie(), body: await this.#text(url, response) };
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

  /** The body as text, within the request's deadline and size cap. */
  #text(url: string, response: Response): Promise<string> {
    return this.#attempts.text(url, response);
  }
}

function basicAuth(credentials: { login: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.login}:${credentials.password}`, "utf8").toString("base64")}`;
}
