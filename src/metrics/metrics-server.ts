// metrics: --metrics-listen: GET /metrics, GET /healthz and POST /poll, with limits on every
// connection.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Log } from "../log.js";
import { isLoopbackAddress } from "./listen-address.js";
import { limitListener, LISTENER_LIMITS, serverOptions, type ListenerLimits } from "./listener-limits.js";

/** The answer to a poll-now request (POST /poll here, SIGUSR1 in the daemon) — accepted: a pass starts now (or right after the running one); absorbed: one that has not started yet already will; rejected: too soon */
export type PollAnswer = { kind: "accepted" } | { kind: "absorbed" } | { kind: "rejected"; retryAfterMs: number };

export interface MetricsEndpoints {
  render(): string;
  health(): { ok: boolean; body: unknown };
  pollNow(): PollAnswer;
}

/**
 * `--metrics-listen`: GET /metrics (the same exposition as the file), GET /healthz (each
 * target's condition with its reason: 200 while none is failing, also when one is degraded by a
 * known-bad build it skips; 503 otherwise; agent/fleet.ts) and POST /poll (poll now, e.g.
 * from a Hydra RunCommand hook: 202, or 429 with Retry-After while --poll-min-interval has not
 * passed). /healthz is unauthenticated: the errors in its body quote a server only through
 * serverText (src/server-text.ts), so no credential is in them.
 */
export async function startMetricsServer(
  host: string,
  port: number,
  endpoints: MetricsEndpoints,
  log: Log,
  limits: ListenerLimits = LISTENER_LIMITS,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(serverOptions(limits), (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/metrics") {
      return send(res, 200, "text/plain; version=0.0.4; charset=utf-8", endpoints.render());
    }
    if (req.method === "GET" && path === "/healthz") {
      const { ok, body } = endpoints.health();
      return send(res, ok ? 200 : 503, "application/json", `${JSON.stringify(body)}\n`);
    }
    if (path === "/poll") {
      if (req.method !== "POST") return send(res, 405, "text/plain", "use POST /poll\n", { allow: "POST" });
      const answer = endpoints.pollNow();
      if (answer.kind === "rejected") {
        const retryAfter = String(Math.max(1, Math.ceil(answer.retryAfterMs / 1000)));
        return send(res, 429, "application/json", `${JSON.stringify({ polling: false, retryAfterSeconds: Number(retryAfter) })}\n`, { "retry-after": retryAfter });
      }
      return send(res, 202, "application/json", `${JSON.stringify({ polling: true, coalesced: answer.kind === "absorbed" })}\n`);
    }
    send(res, 404, "text/plain", "hail serves /metrics, /healthz and POST /poll\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Before the first connection is accepted: that happens in a later turn of the event loop.
  limitListener(server, log, limits);
  const address = server.address() as AddressInfo; // a TCP listener always has an AddressInfo
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  if (!isLoopbackAddress(address.address)) {
    log.warn(
      `--metrics-listen: listening on ${url}, which other machines may reach: /metrics and /healthz answer anyone ` +
        "without authentication, and POST /poll makes hail poll Hydra. Listen on 127.0.0.1 (the default) behind a proxy, or firewall the port",
      { metricsUrl: url },
    );
  }
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": type, ...headers });
  res.end(body);
}
