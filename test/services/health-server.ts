// An HTTP server on 127.0.0.1 standing in for a service's health endpoint in the fake-host
// tests: it answers GET /health with `status` and remembers what it saw at each request.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface HealthServer {
  port: number;
  status: number;
  /** Called on each health request; its result is kept in `seen` (e.g. where traffic goes). */
  observe: () => string;
  seen: string[];
  close(): Promise<void>;
}

export async function startHealthServer(status = 200): Promise<HealthServer> {
  const state: Omit<HealthServer, "port" | "close"> = { status, observe: () => "", seen: [] };
  const server = http.createServer((req, res) => {
    if (req.url === "/health") state.seen.push(state.observe());
    res.writeHead(req.url === "/health" ? state.status : 404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
