// The metrics listener holds few connections and none for long, never ends the agent over an
// accept error, and warns when it listens where other machines may reach it. Limits are made
// small or large per test so each waits for the event it asserts, not for a duration.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { once } from "node:events";
import { afterEach, describe, it } from "node:test";
import type { Log, LogFields } from "../../src/log.js";
import { startMetricsServer } from "../../src/metrics/metrics-server.js";
import { limitListener, LISTENER_LIMITS, type ListenerLimits } from "../../src/metrics/listener-limits.js";
import { isLoopbackAddress } from "../../src/metrics/listen-address.js";

const HOUR = 3_600_000;

function recordingLog(): Log & { warnings: Array<{ msg: string; fields?: LogFields }> } {
  const warnings: Array<{ msg: string; fields?: LogFields }> = [];
  const log = {
    warnings,
    debug() {},
    info() {},
    warn(msg: string, fields?: LogFields) {
      warnings.push({ msg, ...(fields ? { fields } : {}) });
    },
    error() {},
    child: () => log,
  };
  return log;
}

const endpoints = {
  render: () => "hail_up 1\n",
  health: () => ({ ok: true, body: { ok: true } }),
  pollNow: () => ({ kind: "accepted" as const }),
};

const servers: Array<{ close(): Promise<void> }> = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
});

async function start(limits: Partial<ListenerLimits>, log: Log = recordingLog(), host = "127.0.0.1") {
  const server = await startMetricsServer(host, 0, endpoints, log, { ...LISTENER_LIMITS, ...limits });
  servers.push(server);
  return server;
}

/** A connection that says nothing; resolves once connected. */
async function idleConnection(url: string): Promise<net.Socket> {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), "127.0.0.1");
  sockets.push(socket);
  socket.on("error", () => {});
  await once(socket, "connect");
  return socket;
}

/** GET `path` over a fresh connection: the status, or the error when the server closed it unanswered. */
function get(url: string, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(`${url}${path}`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe("the metrics listener under many connections", { timeout: 60_000 }, () => {
  it("serves at most maxConnections at once: the ones over the cap are closed at once, and logged", async () => {
    const log = recordingLog();
    const server = await start({ maxConnections: 4, idleTimeoutMs: HOUR }, log);
    const held = [];
    for (let i = 0; i < 4; i += 1) held.push(await idleConnection(server.url));
    const over = await Promise.all([0, 1, 2].map(() => idleConnection(server.url)));
    // The server closes them; nothing on this side does.
    await Promise.all(over.map((s) => once(s, "close")));
    assert.deepEqual(held.map((s) => s.destroyed), [false, false, false, false], "the first four are still open");
    assert.notEqual(await get(server.url, "/healthz"), 200, "a fifth connection is not served while four are held");
    assert.match(log.warnings[0]?.msg ?? "", /closed 1 new connection\(s\) at once: it serves at most 4 at a time/);
    // Released: served again (each try that still finds the cap full is closed at once).
    for (const s of held) s.destroy();
    let status = await get(server.url, "/healthz");
    while (status !== 200) status = await get(server.url, "/healthz");
    assert.equal(status, 200);
  });

  it("closes a connection that never sends a byte", async () => {
    const server = await start({ idleTimeoutMs: 200 });
    const socket = await idleConnection(server.url);
    await once(socket, "close");
    assert.equal(await get(server.url, "/healthz"), 200);
  });

  it("answers a sender too slow to finish its headers with 408 and closes it", async () => {
    const server = await start({ idleTimeoutMs: HOUR, headersTimeoutMs: 200, requestTimeoutMs: 400, checkIntervalMs: 50 });
    const socket = await idleConnection(server.url);
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    // One header line at a time, never the blank line that ends them.
    const drip = setInterval(() => socket.writable && socket.write("X-Slow: 1\r\n"), 50);
    try {
      await once(socket, "close");
    } finally {
      clearInterval(drip);
    }
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  it("an accept error (no descriptor left) is logged, and the server goes on", async () => {
    const log = recordingLog();
    const server = http.createServer();
    limitListener(server, log, LISTENER_LIMITS);
    server.emit("error", Object.assign(new Error("accept EMFILE"), { code: "EMFILE" }));
    server.emit("error", Object.assign(new Error("accept EMFILE"), { code: "EMFILE" }));
    assert.equal(log.warnings.length, 1, "a flood of errors is one line (and a count later)");
    assert.match(log.warnings[0]?.msg ?? "", /cannot accept connections \(accept EMFILE\); deployments go on/);
  });
});

describe("the warning for an address other machines may reach", () => {
  it("0.0.0.0: warns once, naming the URL and what is exposed", async () => {
    const log = recordingLog();
    const server = await start({}, log, "0.0.0.0");
    assert.equal(log.warnings.length, 1);
    assert.ok(log.warnings[0]?.msg.includes(`listening on ${server.url}, which other machines may reach`), log.warnings[0]?.msg);
    assert.match(log.warnings[0]?.msg ?? "", /without authentication, and POST \/poll makes hail poll Hydra/);
  });

  it("127.0.0.1: no warning", async () => {
    const log = recordingLog();
    await start({}, log, "127.0.0.1");
    assert.deepEqual(log.warnings, []);
  });

  const cases: Array<[string, boolean]> = [
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.5", false],
    ["::ffff:10.0.0.5", false],
    ["fe80::1", false],
  ];
  for (const [address, loopback] of cases) {
    it(`${address} is ${loopback ? "" : "not "}loopback`, () => assert.equal(isLoopbackAddress(address), loopback));
  }
});
