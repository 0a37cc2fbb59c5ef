/**
 * A Fetch-compatible function on node:http / node:https, handed to ky as its `fetch`.
 *
 * Node 20's own fetch (undici) compiles a WebAssembly HTTP parser on the first request, which
 * made a one-shot `hail plan` several times slower than curl. This carries the requests on
 * Node's built-in parser instead and keeps what hail relies on:
 * - `redirect: "manual"` returns a 3xx as it came, Location included (hail follows redirects
 *   itself); "follow" follows GET redirects, "error" refuses them;
 * - a signal aborts the request at any point, the body included: `init.signal` (a signal the
 *   caller holds a reference to, which ky passes through untouched) and the Request's own;
 * - TLS with Node's CA store plus NODE_EXTRA_CA_CERTS, as for fetch;
 * - every Set-Cookie header kept apart (`headers.getSetCookie()`);
 * - gzip, deflate and br answers asked for and decoded, as fetch does;
 * - hail's User-Agent (user-agent.ts) on every request that does not set its own: the lowest
 *   layer, so every request hail makes names it;
 * - the body streams with backpressure: nothing is read before the caller asks for it, and
 *   cancelling the body closes the connection, so a size cap reads no further than the cap.
 */
// First: the Headers, Request and Response used below are hail's own (web-globals.ts says why).
import "./web-globals.js";
import http from "node:http";
import type { Readable } from "node:stream";
import { USER_AGENT } from "./user-agent.js";

// node:https (with tls and crypto) and node:zlib load on the first https URL or compressed
// answer, not at start: a `hail plan` against http://127.0.0.1 needs neither.
const https = () => process.getBuiltinModule("node:https");
const zlib = () => process.getBuiltinModule("node:zlib");

export type FetchFunction = (input: Request | URL | string, init?: RequestInit) => Promise<Response>;

/** Statuses whose Response must have a null body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_FOLLOWED_REDIRECTS = 20;
/** Bytes the body stream buffers ahead of its reader before it pauses the socket. */
const BODY_HIGH_WATER_MARK = 64 * 1024;

export const httpFetch: FetchFunction = async (input, init = {}) => {
  const request = input instanceof Request ? input : undefined;
  const method = (init.method ?? request?.method ?? "GET").toUpperCase();
  const headers = new Headers(init.headers ?? request?.headers);
  const body = await requestBody(init.body ?? null, request);
  const signals = [init.signal, request?.signal].filter((s): s is AbortSignal => s != null);
  const redirect = init.redirect ?? request?.redirect ?? "follow";
  let url = new URL(request?.url ?? String(input));
  for (let hop = 0; ; hop += 1) {
    const response = await send(url, method, headers, body, signals);
    const location = response.headers.get("location");
    if (redirect === "manual" || !REDIRECTS.has(response.status) || location === null) return response;
    await response.body?.cancel();
    if (redirect === "error") throw new TypeError(`fetch failed: redirected (HTTP ${response.status}) with redirect: "error"`);
    if (hop >= MAX_FOLLOWED_REDIRECTS) throw new TypeError("fetch failed: too many redirects");
    if (method !== "GET" && method !== "HEAD") throw new TypeError(`fetch failed: will not follow a redirect of a ${method}`);
    const next = new URL(location, url);
    // Credentials are for the origin they were given to.
    if (next.origin !== url.origin) {
      headers.delete("authorization");
      headers.delete("cookie");
    }
    url = next;
  }
};

async function requestBody(body: RequestInit["body"] | null, request: Request | undefined): Promise<Buffer | undefined> {
  if (body !== null) return Buffer.from(await new Response(body).arrayBuffer());
  if (request?.body == null) return undefined;
  return Buffer.from(await request.arrayBuffer());
}

function send(url: URL, method: string, headers: Headers, body: Buffer | undefined, signals: AbortSignal[]): Promise<Response> {
  const aborted = signals.find((s) => s.aborted);
  if (aborted) return Promise.reject(abortReason(aborted));
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Promise.reject(new TypeError(`fetch failed: unsupported protocol ${url.protocol}`));
  }
  const outgoing: Record<string, string> = {};
  headers.forEach((value, name) => void (outgoing[name] = value));
  if (body !== undefined) outgoing["content-length"] = String(body.length);
  outgoing["accept-encoding"] ??= "gzip, deflate, br";
  outgoing["user-agent"] ??= USER_AGENT;
  return new Promise<Response>((resolve, reject) => {
    const transport = url.protocol === "https:" ? https() : http;
    const req = transport.request(url, { method, headers: outgoing });
    let res: http.IncomingMessage | undefined;
    let source: Readable | undefined;
    const onAbort = (event: Event) => {
      const reason = abortReason(event.target as AbortSignal) as Error;
      // Once the answer has begun, the body stream is what the caller waits on.
      source?.destroy(reason);
      res?.destroy(reason);
      req.destroy(reason);
    };
    const detach = () => {
      for (const s of signals) s.removeEventListener("abort", onAbort);
    };
    for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
    req.on("error", (err) => {
      detach();
      reject(fetchFailed(err));
    });
    req.on("response", (incoming) => {
      res = incoming;
      incoming.on("close", detach);
      try {
        source = decoded(incoming);
        resolve(toResponse(incoming, source));
      } catch (err) {
        incoming.destroy();
        reject(fetchFailed(err));
      }
    });
    req.end(body);
  });
}

/** The body as it was meant: decompressed when the server says it compressed it. */
function decoded(res: http.IncomingMessage): Readable {
  const encoding = res.headers["content-encoding"]?.trim().toLowerCase();
  const decoder =
    encoding === "gzip" || encoding === "x-gzip" ? zlib().createGunzip()
    : encoding === "deflate" ? zlib().createInflate()
    : encoding === "br" ? zlib().createBrotliDecompress()
    : undefined;
  if (decoder === undefined) return res;
  res.on("error", (err) => decoder.destroy(err));
  // A decoder closed before the end (the body cancelled, or broken) closes the connection too.
  decoder.on("close", () => {
    if (!res.complete) res.destroy();
  });
  return res.pipe(decoder);
}

function toResponse(res: http.IncomingMessage, source: Readable): Response {
  const status = res.statusCode ?? 0;
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  if (NULL_BODY_STATUSES.has(status)) {
    res.resume();
    return new Response(null, { status, statusText: res.statusMessage ?? "", headers });
  }
  return new Response(bodyStream(source), { status, statusText: res.statusMessage ?? "", headers });
}

/** The socket's bytes as a web stream that pauses the socket while its reader is behind. */
function bodyStream(res: Readable): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        res.on("data", (chunk: Buffer) => {
          if (finished) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) res.pause();
        });
        res.on("end", () => {
          if (!finished) controller.close();
          finished = true;
        });
        res.on("error", (err) => {
          if (!finished) controller.error(isAbort(err) ? err : fetchFailed(err));
          finished = true;
        });
        res.pause();
      },
      pull() {
        res.resume();
      },
      cancel() {
        finished = true;
        // Everything has arrived already (a redirect's small body): drop it without breaking
        // the connection, which avoids an abort and lets the agent keep the socket alive.
        if ((res as Partial<http.IncomingMessage>).complete === true) res.resume();
        else res.destroy();
      },
    },
    { highWaterMark: BODY_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
  );
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}

/** Like fetch: a TypeError "fetch failed" whose `cause` carries the system error (and its code). */
function fetchFailed(err: unknown): unknown {
  if (isAbort(err)) return err;
  return new TypeError("fetch failed", { cause: err });
}
