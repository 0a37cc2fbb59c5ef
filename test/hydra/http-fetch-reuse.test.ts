// httpFetch and Node's keep-alive agent, in a file of its own: nock (loaded by the other
// HTTP tests' helpers) answers every connection with "Connection: close", so a reused
// connection can only be seen without it.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { httpFetch } from "../../src/hydra/http-fetch.js";

describe("httpFetch and kept-alive connections", () => {
  const sockets = new Set<unknown>();
  const server = http.createServer((req, res) => {
    sockets.add(req.socket);
    if (req.url === "/moved") res.writeHead(302, { location: "/build/7", "content-type": "text/plain" }).end("This item has moved.");
    else res.writeHead(200).end("ok");
  });
  let base = "";
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("cancelling a body that has fully arrived keeps the connection for the next request", async () => {
    // hail drops every redirect's body (latest-finished answers 302): that must not break
    // the connection, which the pass's next request can use (and it throws no abort in node)
    const moved = await httpFetch(`${base}/moved`, { redirect: "manual" });
    assert.equal(moved.status, 302);
    await moved.body?.cancel();
    // the socket goes back to the agent's free list; a destroyed one never would
    for (let i = 0; i < 1000 && Object.keys(http.globalAgent.freeSockets).length === 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const next = await httpFetch(`${base}/after`);
    assert.equal(await next.text(), "ok");
    assert.equal(sockets.size, 1, "both requests went over one connection");
  });
});
