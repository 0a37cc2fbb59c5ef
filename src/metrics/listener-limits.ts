/**
 * The metrics listener is unauthenticated and runs inside the agent: whoever reaches it must
 * not be able to take the descriptors a deployment needs (sockets to Hydra, state and lock
 * files, pipes to nix and to the activation). So it holds few connections, and none for long.
 */
import { formatDuration } from "../duration.js";
import type http from "node:http";
import type { Log } from "../log.js";

export interface ListenerLimits {
  /**
   * Connections served at once. A scraper, a health probe and a burst of POST /poll hooks need
   * a few dozen (an HTTP client pool may open two per request in flight); 64 leaves three
   * quarters of even a small descriptor limit (`ulimit -n 256`) to deployments.
   * A connection over the cap is accepted and closed at once (Node's maxConnections), so it
   * holds no descriptor; libuv's reserve descriptor keeps accept from spinning when none are left.
   */
  maxConnections: number;
  /** A connection that sends and receives nothing for this long is closed, also before its first byte. */
  idleTimeoutMs: number;
  /** The request's headers must be complete within this (a slow sender gets 408). */
  headersTimeoutMs: number;
  /** The whole request within this. */
  requestTimeoutMs: number;
  /** Between requests on a kept-alive connection. */
  keepAliveTimeoutMs: number;
  /** How often Node checks the header and request deadlines (its default, 30 s, lets them run far over). */
  checkIntervalMs: number;
}

export const LISTENER_LIMITS: ListenerLimits = {
  maxConnections: 64,
  idleTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
};

/** Trouble is logged at most this often, with a count, so a flood of connections is not a flood of lines. */
const WARN_EVERY_MS = 60_000;

/** The options http.createServer takes for `limits` (the rest is set on the server by limitListener). */
export function serverOptions(limits: ListenerLimits): http.ServerOptions {
  return { connectionsCheckingInterval: limits.checkIntervalMs };
}

export function limitListener(server: http.Server, log: Log, limits: ListenerLimits): void {
  server.maxConnections = limits.maxConnections;
  server.timeout = limits.idleTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  const dropped = rateLimited((count) =>
    log.warn(
      `metrics listener: closed ${count} new connection(s) at once: it serves at most ${limits.maxConnections} at a time ` +
        `(idle ones close after ${formatDuration(limits.idleTimeoutMs)}); deployments go on`,
      { droppedConnections: count },
    ),
  );
  // accept() failing (EMFILE: no descriptor left) must not end the agent: without a listener
  // the server's "error" event would be thrown.
  const failed = rateLimited((count, err) =>
    log.warn(`metrics listener: cannot accept connections (${err?.message ?? "unknown error"}); deployments go on`, { acceptErrors: count }),
  );
  server.on("drop", () => dropped());
  server.on("error", (err: Error) => failed(err));
}

/** A function that logs at once, then at most once per WARN_EVERY_MS how many more happened. */
function rateLimited(emit: (count: number, err?: Error) => void): (err?: Error) => void {
  let count = 0;
  let last: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (count === 0) return;
    emit(count, last);
    count = 0;
    timer = setTimeout(flush, WARN_EVERY_MS);
    timer.unref();
  };
  return (err) => {
    count += 1;
    last = err;
    if (timer === undefined) flush();
  };
}
