// The daemon's SIGUSR1 ("poll now", `systemctl reload`) and node's --disable-sigusr1, against
// the built CLI: started as the Nix package's bin/hail-daemon and nix/systemd/hail@.service
// start it (package.json's daemonNodeFlags, without --disable-sigusr1), SIGUSR1 polls and
// opens no inspector; started with --disable-sigusr1, on Node 24 the signal never arrives,
// and the daemon says so at start and still polls on POST /poll.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { HailDaemon } from "../support/cli.js";
import { pathExists } from "../../src/path-exists.js";
import { INSPECTOR_MESSAGE, listeningSocketsOf, signalDelivered, watchListeners } from "./proc-watch.js";
import { worldAtGreenGate, type World } from "./world.js";

const DAEMON_NODE_FLAGS = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { daemonNodeFlags: string[] }).daemonNodeFlags;
const WARNING = /runs with --disable-sigusr1 .*neither SIGUSR1 nor `systemctl reload` can make this daemon poll now; use POST \/poll on --metrics-listen, or start the daemon without the flag/;
const nodeHasFlag = spawnSync(process.execPath, ["--disable-sigusr1", "-e", "0"]).status === 0;

describe("the daemon's SIGUSR1 and node's --disable-sigusr1", () => {
  let w: World;
  const started: HailDaemon[] = [];
  let daemons = 0;
  const latestFinished = () => w.hydra.requests.filter((q) => q.path.endsWith("/latest-finished")).length;

  before(async () => {
    ({ world: w } = await worldAtGreenGate("1"));
  });
  // a failed test must not leave its daemon holding the profile lock for the next one
  afterEach(async () => {
    for (const d of started.splice(0)) if (d.alive) await d.stop("SIGKILL");
  });
  after(() => w.close());

  /** a daemon with a 1 h period (only a poll request makes another pass), after its first pass */
  async function daemonAfterFirstPass(nodeArgs: string[], env: NodeJS.ProcessEnv = w.env): Promise<HailDaemon> {
    // the metrics file is written at the end of each pass: once it exists, the first pass is over
    const metricsFile = path.join(w.lab.root, `metrics-${++daemons}`, "hail.prom");
    const daemon = HailDaemon.start(
      [...w.gateArgs("myapp"), "--poll-period", "1h", "--poll-min-interval", "1ms", "--metrics-listen", "127.0.0.1:0", "--metrics-file", metricsFile],
      env,
      nodeArgs,
    );
    started.push(daemon);
    await daemon.waitFor(() => pathExists(metricsFile), "the first pass to end");
    return daemon;
  }

  it("as bin/hail-daemon and hail@.service start it: SIGUSR1 polls now, opens no socket, and no warning", async () => {
    const daemon = await daemonAfterFirstPass(DAEMON_NODE_FLAGS);
    const pid = daemon.child.pid as number;
    const baseline = await listeningSocketsOf(pid); // the --metrics-listen socket
    const watch = watchListeners(pid, baseline);
    const before = latestFinished();
    process.kill(pid, "SIGUSR1");
    await daemon.waitFor(/received SIGUSR1: polling now/, "the daemon to answer SIGUSR1");
    await daemon.waitFor(() => latestFinished() > before, "the pass SIGUSR1 asked for");
    assert.deepEqual(await watch.stop(), [], "no new listening socket belonged to the daemon");
    assert.doesNotMatch(daemon.stderr, INSPECTOR_MESSAGE);
    assert.doesNotMatch(daemon.stderr, /disable-sigusr1/);
    assert.equal(await daemon.stop("SIGTERM"), 0, daemon.stderr);
  });

  for (const [how, nodeArgs, env] of [
    ["on node's command line", ["--disable-sigusr1", ...DAEMON_NODE_FLAGS], {}],
    ["in NODE_OPTIONS", DAEMON_NODE_FLAGS, { NODE_OPTIONS: "--disable-sigusr1" }],
  ] as const) {
    it(`with --disable-sigusr1 ${how}: warns at start; SIGUSR1 stays pending while POST /poll polls`, { skip: !nodeHasFlag && "this node has no --disable-sigusr1" }, async () => {
      const daemon = await daemonAfterFirstPass([...nodeArgs], { ...w.env, ...env });
      const warning = daemon.logLines().find((l) => WARNING.test(String(l.msg)));
      assert.ok(warning, daemon.stderr);
      assert.equal((warning._meta as { logLevelName?: string } | undefined)?.logLevelName, "WARN");
      assert.match(String(warning.msg), new RegExp(`node ${process.versions.node.replaceAll(".", "\\.")} `));

      const pid = daemon.child.pid as number;
      process.kill(pid, "SIGUSR1");
      const url = String(daemon.logLines().find((l) => String(l.msg).startsWith("hail started"))?.metricsUrl);
      const before = latestFinished();
      const poll = await fetch(`${url}/poll`, { method: "POST" });
      assert.equal(poll.status, 202, await poll.text());
      // the daemon ran JavaScript and asked Hydra after the signal was sent: a deliverable
      // SIGUSR1 would have been delivered by now
      await daemon.waitFor(() => latestFinished() > before, "the pass POST /poll asked for");
      assert.equal(await signalDelivered(pid, "SIGUSR1"), false, "SIGUSR1 is still pending: node blocks it");
      assert.doesNotMatch(daemon.stderr, /received SIGUSR1/);
      assert.equal(await daemon.stop("SIGTERM"), 0, daemon.stderr);
    });
  }
});
