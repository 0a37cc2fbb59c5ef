import net from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a server (nginx, Prometheus) that
 * cannot bind port 0 and report back. Another process may take it in between: retry on failure.
 */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
