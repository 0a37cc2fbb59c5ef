// The built daemon's --metrics-listen under descriptor pressure: started under `ulimit -n 256`,
// 1,000 idle connections to it do not stop a deployment with real Nix (hail still opens files,
// sockets to Hydra and the binary cache, and starts nix and the activation), and /healthz is
// answered once they are released. And a listener on an address other machines may reach is
// warned about at start.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { HailDaemon } from "../support/cli.js";
import { greenGate, waitUntil, worldAtGreenGate, type World } from "./world.js";

const FILE_LIMIT = 256;
const CONNECTIONS = 1_000;

/** This process's soft limit on open files, from /proc/self/limits. */
async function ownFileLimit(): Promise<number> {
  const line = (await readFile("/proc/self/limits", "utf8")).split("\n").find((l) => l.startsWith("Max open files")) ?? "";
  const soft = line.split(/\s{2,}/)[1] ?? "";
  return soft === "unlimited" ? Infinity : Number(soft);
}

/** Opens `count` connections that never send a byte; counts how many the server closed. */
function idleConnections(url: string, count: number) {
  const { hostname, port } = new URL(url);
  const state = { settled: 0, closedByServer: 0, released: false, sockets: [] as net.Socket[] };
  for (let i = 0; i < count; i += 1) {
    const socket = net.connect(Number(port), hostname);
    let settled = false;
    const settle = () => {
      if (!settled) state.settled += 1;
      settled = true;
    };
    socket.on("connect", settle);
    socket.on("error", settle);
    socket.on("close", () => {
      settle();
      if (!state.released) state.closedByServer += 1;
    });
    state.sockets.push(socket);
  }
  return {
    state,
    release: () => {
      state.released = true;
      for (const s of state.sockets) s.destroy();
    },
  };
}

async function healthz(url: string): Promise<number | null> {
  try {
    const response = await fetch(`${url}/healthz`);
    await response.text();
    return response.status;
  } catch {
    return null;
  }
}

describe("the metrics listener under descriptor pressure", { timeout: 600_000 }, () => {
  let world: World;
  let app1: string;
  let app2: string;
  const daemons: HailDaemon[] = [];

  before(async () => {
    ({ world, apps: [app1, app2] } = await worldAtGreenGate("1", "2"));
  });
  after(async () => {
    for (const d of daemons) if (d.alive) await d.stop("SIGKILL");
    await world.close();
  });

  const startedUrl = (daemon: HailDaemon) => String(daemon.logLines().find((l) => String(l.msg).startsWith("hail started"))?.metricsUrl);

  it(`under ulimit -n ${FILE_LIMIT}, ${CONNECTIONS} idle connections do not stop a deployment; /healthz answers once they are released`, async () => {
    assert.ok((await ownFileLimit()) > CONNECTIONS + 200, "this test process needs a file limit above the connections it opens (raise ulimit -n)");
    const daemon = HailDaemon.start([...world.gateArgs("myapp"), "--poll-period", "1s", "--metrics-listen", "127.0.0.1:0"], world.env, [], { maxOpenFiles: FILE_LIMIT });
    daemons.push(daemon);
    await daemon.waitFor(async () => (await world.profileTarget("myapp")) === app1, "the first deployment");
    const limits = await readFile(`/proc/${daemon.child.pid}/limits`, "utf8");
    assert.match(limits, new RegExp(`Max open files\\s+${FILE_LIMIT}\\s`), "hail runs under the limit");
    const url = startedUrl(daemon);

    const flood = idleConnections(url, CONNECTIONS);
    try {
      await daemon.waitFor(() => flood.state.settled === CONNECTIONS, `all ${CONNECTIONS} connections accepted or refused`);
      // Hydra offers a new build: the next poll must deploy it, with the connections still open.
      for (const b of greenGate(200, 20, app2)) world.hydra.addBuild(b);
      // the profile is switched before the activation runs: wait for the activation itself
      const activated = async () => (await world.activations()).includes(`activated ${app2} build=201`);
      await daemon.waitFor(async () => (await world.profileTarget("myapp")) === app2 && (await activated()), "the deployment and its activation during the flood", 180_000);
      assert.ok(flood.state.closedByServer > 0, "the listener closed the connections over its cap itself");
      assert.match(daemon.stderr, /metrics listener: closed \d+ new connection\(s\) at once: it serves at most 64 at a time/);
      assert.doesNotMatch(daemon.stderr, /EMFILE|too many open files/i);
    } finally {
      flood.release();
    }
    // Released: a fresh connection is answered (a try that still finds the cap full is closed at once).
    await waitUntil(async () => (await healthz(url)) === 200, "/healthz answered after the release");
    assert.equal(await daemon.stop("SIGTERM"), 0, daemon.stderr);
  });

  it("listening on 0.0.0.0 warns once at start that /metrics, /healthz and POST /poll are open to other machines", async () => {
    // a profile of its own: a daemon the test above left behind cannot hold its lock
    const daemon = HailDaemon.start([...world.gateArgs("open-listener", "myapp"), "--poll-period", "1h", "--metrics-listen", "0.0.0.0:0"], world.env);
    daemons.push(daemon);
    await daemon.waitFor(() => daemon.logLines().some((l) => String(l.msg).startsWith("hail started")), "the start");
    const url = startedUrl(daemon);
    assert.match(url, /^http:\/\/0\.0\.0\.0:\d+$/);
    const warnings = daemon.logLines().filter((l) => String(l.msg).includes("which other machines may reach"));
    assert.equal(warnings.length, 1, daemon.stderr);
    const [warning] = warnings;
    assert.equal((warning?._meta as { logLevelName?: string } | undefined)?.logLevelName, "WARN");
    assert.ok(String(warning?.msg).startsWith(`--metrics-listen: listening on ${url}, which other machines may reach: /metrics and /healthz answer anyone without authentication, and POST /poll makes hail poll Hydra`), String(warning?.msg));
    assert.equal(await daemon.stop("SIGTERM"), 0, daemon.stderr);
  });
});
