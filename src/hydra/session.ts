/**
 * A session with a private Hydra: `POST /login` (JSON username and password) once, keep the
 * `hydra_session` cookie in memory only, log in again when Hydra has forgotten it. Nothing
 * here logs, and no message carries the password or the cookie (docs/security.md, "Security").
 */
import { HydraUnavailable } from "../errors.js";
import { cookieCredentials, passwordCredentials, rememberCredentials } from "../secrets.js";
import { botWallText } from "./bot-wall.js";
import { hydraSays } from "./response.js";

export interface HydraLogin {
  user: string;
  password: string;
}

/** The login POST, ready to send: the client adds its own headers (Basic auth for a proxy). */
export interface LoginRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What came back from the login POST; redirects are not followed. */
export interface LoginAnswer {
  status: number;
  setCookies: readonly string[];
  body: string;
}

const SESSION_COOKIE = "hydra_session";

const CREDENTIALS_HINT = "check --hydra-user and the password in --hydra-password-file";

/**
 * Hydra refuses a POST unless its Referer (or Origin) starts with Hydra's own base URL
 * (XSRF check in Hydra's Root.pm). Referer carries the full base, path prefix included; an
 * Origin has no path, so it is sent only when the base has none: a Hydra that reads Origin
 * before Referer would refuse a base like https://host/hydra otherwise.
 */
export function loginRequest(baseUrl: string, login: HydraLogin): LoginRequest {
  const { origin } = new URL(baseUrl);
  const headers: Record<string, string> = {
    accept: "application/json",
    "content-type": "application/json",
    referer: `${baseUrl}/`,
  };
  if (baseUrl === origin) headers["origin"] = origin;
  return { url: `${baseUrl}/login`, headers, body: JSON.stringify({ username: login.user, password: login.password }) };
}

/**
 * The `hydra_session` value among Set-Cookie headers (the last one wins, as in a browser).
 * Some proxies (and nock) fold several Set-Cookie headers into one line joined by commas; a
 * cookie name or value never holds a comma, so a name right after one starts a new cookie.
 */
export function sessionCookieFrom(setCookies: readonly string[]): string | undefined {
  let found: string | undefined;
  for (const header of setCookies) {
    for (const match of header.matchAll(/(?:^|,)\s*hydra_session=([^;,]*)/g)) {
      const value = (match[1] ?? "").trim();
      // An expiring "delete" cookie, or a value Hydra would never send, is no session.
      found = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/.test(value) ? value : undefined;
    }
  }
  return found;
}

/** A login answer read: the session cookie, or why there is none (for an operator to act on). */
export type LoginOutcome = { kind: "session"; cookie: string } | { kind: "refused"; detail: string };

function readLoginAnswer(answer: LoginAnswer): LoginOutcome {
  const says = hydraSays(answer.body);
  const refused = (detail: string): LoginOutcome => ({ kind: "refused", detail });
  const wall = botWallText(answer.status, answer.body);
  if (wall !== undefined) return refused(wall);
  if (answer.status === 401) {
    return refused(`HTTP 401${says}; a proxy in front of Hydra wants HTTP Basic credentials: check the netrc file (--netrc-file)`);
  }
  if (answer.status === 403 || answer.status === 400) return refused(`HTTP ${answer.status}${says}; ${CREDENTIALS_HINT}`);
  if (says.includes("POST requests should come from")) {
    return refused(
      `HTTP ${answer.status}${says}; Hydra believes it lives at another address than the job URL's: ` +
        "use that address in the job URL, or fix the forwarded headers of the proxy in front of Hydra",
    );
  }
  if (answer.status < 200 || answer.status >= 400) return refused(`unexpected HTTP ${answer.status}${says}`);
  const cookie = sessionCookieFrom(answer.setCookies);
  if (cookie === undefined) {
    return refused(`HTTP ${answer.status} without a ${SESSION_COOKIE} cookie; is this a Hydra, and does a proxy strip Set-Cookie?`);
  }
  return { kind: "session", cookie };
}

/**
 * The session of one client. Concurrent requests share one login; a failed login is not
 * remembered, so the next request (the next poll) tries again.
 */
export class HydraSession {
  readonly #login: HydraLogin;
  readonly #request: LoginRequest;
  readonly #post: (request: LoginRequest) => Promise<LoginAnswer>;
  #cookie: string | undefined;
  #pending: Promise<string> | undefined;
  /** Forgets the redaction of a cookie: the current one and the one before stay remembered. */
  readonly #forgetCookies: Array<() => void> = [];

  constructor(baseUrl: string, login: HydraLogin, post: (request: LoginRequest) => Promise<LoginAnswer>) {
    this.#login = login;
    // A proxy's error page could echo the request body: what it quotes is redacted.
    rememberCredentials(passwordCredentials(login.user, login.password));
    this.#request = loginRequest(baseUrl, login);
    this.#post = post;
  }

  /** The Cookie header for the next request, logging in first when there is no session yet. */
  cookieHeader(): Promise<string> {
    return this.#cookie === undefined ? this.#start() : Promise.resolve(this.#header(this.#cookie));
  }

  /** Hydra refused `stale`: log in again, unless a concurrent request already did. */
  renew(stale: string): Promise<string> {
    if (this.#cookie !== undefined && this.#header(this.#cookie) !== stale) return Promise.resolve(this.#header(this.#cookie));
    this.#cookie = undefined;
    return this.#start();
  }

  /** A request refused even right after a fresh login. */
  refusedAfterLogin(url: string, says: string): HydraUnavailable {
    return new HydraUnavailable(
      url,
      `HTTP 403${says} even after logging in again as "${this.#login.user}"; the login did not help: ` +
        `${CREDENTIALS_HINT}, and that the user may see this project`,
    );
  }

  #start(): Promise<string> {
    this.#pending ??= this.#logIn().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #logIn(): Promise<string> {
    const outcome = readLoginAnswer(await this.#post(this.#request));
    if (outcome.kind === "refused") {
      throw new HydraUnavailable(this.#request.url, `cannot log in as "${this.#login.user}": ${outcome.detail}`);
    }
    // The previous cookie too: a request still in flight with it may have its echo come back.
    this.#forgetCookies.push(rememberCredentials(cookieCredentials(SESSION_COOKIE, outcome.cookie)));
    if (this.#forgetCookies.length > 2) this.#forgetCookies.shift()?.();
    this.#cookie = outcome.cookie;
    return this.#header(outcome.cookie);
  }

  #header(cookie: string): string {
    return `${SESSION_COOKIE}=${cookie}`;
  }
}
