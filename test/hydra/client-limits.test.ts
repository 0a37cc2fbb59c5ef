// The Hydra client against a server that answers badly on purpose (real sockets, no nock):
// the timeout covers the body, the size cap stops reading, and fields it did not ask for are
// checked. No timing thresholds: a timeout is asserted by its error, a cap by the bytes the
// server managed to send.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { HydraUnavailable, InvalidResponse } from "../../src/errors.js";
import { HydraClient } from "../../src/hydra/client.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import { answer, drip, HostileServer, oversized, redirect, wrongLength } from "../support/hostile-server.js";
import { failsWith, fixture } from "./helpers.js";

const MiB = 1024 * 1024;

describe("HydraClient limits, against a hostile server", () => {
  let server: HostileServer;
  before(async () => {
    server = await HostileServer.start("http://127.0.0.1:9");
  });
  after(() => server.close());

  const client = (opts: { timeoutMs?: number; maxResponseBytes?: number } = {}) =>
    new HydraClient({ baseUrl: server.url, timeoutMs: opts.timeoutMs ?? 5_000, retries: 0, ...opts });

  it("a body dripping one byte a second is a timeout (69) naming the URL", async () => {
    server.on("/build/1", drip());
    await assert.rejects(
      client({ timeoutMs: 1_500 }).getBuild(1),
      failsWith(HydraUnavailable, 69, `${server.url}/build/1`, "no complete answer within 1s500ms"),
    );
  });

  it("a Content-Length larger than what is sent, connection held open, is a timeout (69)", async () => {
    server.on("/build/2", wrongLength());
    await assert.rejects(
      client({ timeoutMs: 1_000 }).getBuild(2),
      failsWith(HydraUnavailable, 69, `${server.url}/build/2`, "within 1s"),
    );
  });

  it("a Content-Length larger than what is sent, then the connection closed, is a broken connection (69)", async () => {
    server.on("/build/6", wrongLength(100_000, '{"id": 6', true));
    await assert.rejects(
      client().getBuild(6),
      failsWith(HydraUnavailable, 69, `${server.url}/build/6`, "the connection broke while reading the answer"),
    );
  });

  it("a Content-Length over the cap is refused (65) before the body is read", async () => {
    server.on("/build/3", oversized(64 * MiB, true));
    await assert.rejects(
      client({ maxResponseBytes: MiB }).getBuild(3),
      failsWith(InvalidResponse, 65, `${server.url}/build/3`, "Content-Length 67108864", "larger than the 1 MiB"),
    );
    const d = await closedDelivery(server, "/build/3");
    assert.ok(d.bytesSent < 16 * MiB, `the server got ${d.bytesSent} bytes out of 64 MiB`);
  });

  it("a chunked body growing past the cap is refused (65) and the connection closed", async () => {
    server.on("/build/4", oversized(256 * MiB, false));
    await assert.rejects(
      client({ maxResponseBytes: 2 * MiB }).getBuild(4),
      failsWith(InvalidResponse, 65, `${server.url}/build/4`, "larger than the 2 MiB"),
    );
    const d = await closedDelivery(server, "/build/4");
    assert.ok(d.bytesSent < 32 * MiB, `the server got ${d.bytesSent} bytes out of 256 MiB`);
  });

  it("the cap counts decompressed bytes: a small gzip of 64 MiB is refused (65)", async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB, 0x20));
    server.on("/build/7", (_req, res) => res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(bomb));
    await assert.rejects(client({ maxResponseBytes: MiB }).getBuild(7), failsWith(InvalidResponse, 65, "body is larger than the 1 MiB"));
  });

  it("the cap defaults to 32 MiB", async () => {
    server.on("/build/5", oversized(33 * MiB, true));
    await assert.rejects(client().getBuild(5), failsWith(InvalidResponse, 65, "larger than the 32 MiB"));
  });

  it("/build/100 answering with another id is refused (65)", async () => {
    server.on("/build/100", answer(200, fixture("gate-build.json").replace(/"id": *\d+/, '"id": 555')));
    await assert.rejects(client().getBuild(100), failsWith(InvalidResponse, 65, "build 555 instead of build 100"));
  });

  it("a redirect to a build id beyond 2^53 is refused (65)", async () => {
    server.on(/latest-finished$/, redirect("/build/99999999999999999999"));
    await assert.rejects(
      client().latest(parseJobUrl(`${server.url}/job/p/j/gate`), "latest-finished"),
      failsWith(InvalidResponse, 65, "beyond 2^53"),
    );
  });
});

/** The delivery for `path`, once the server has seen the client hang up (a generous bound, not a threshold). */
async function closedDelivery(server: HostileServer, path: string) {
  for (let i = 0; ; i += 1) {
    assert.ok(i < 3_000, `the client never closed ${path}`);
    const d = server.deliveries.find((x) => x.path === path);
    assert.ok(d, `the server answered ${path}`);
    if (d.closedEarly) return d;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
