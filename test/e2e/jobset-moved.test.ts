// A daemon following a renamed jobset (Hydra's 301) warns once, not at every poll (issue 22,
// point 7). The built CLI as a daemon, real Nix and the Hydra test server.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { waitUntil, worldAtGreenGate, type World } from "./world.js";

describe("a renamed jobset, polled again and again", () => {
  let w: World;

  before(async () => {
    ({ world: w } = await worldAtGreenGate("1"));
    w.hydra.renameJobset("myproject", "old-main", "main");
  });
  afterEach(() => w.stopDaemons());
  after(() => w.close());

  it("warns at the first poll that follows the move, and not at the next ones", async () => {
    const old = `${w.hydra.url}/job/myproject/old-main/release_gate`;
    const daemon = w.startDaemon(["--gate-job", old, "--constituent", "myapp", "--profile", "myapp", ...w.labArgs(), "--poll-period", "1h", "--poll-min-interval", "1ms", "--log-level", "debug"]);
    const polls = () => w.hydra.requests.filter((q) => q.path === "/job/myproject/old-main/release_gate/latest-finished").length;
    const level = (l: Record<string, unknown>) => String((l._meta as { logLevelName?: unknown } | undefined)?.logLevelName);
    await daemon.waitFor(() => daemon.logLines().some((l) => l.msg === "deployed build 101"), "the first deployment");
    for (let poll = 2; poll <= 3; poll += 1) {
      process.kill(daemon.child.pid as number, "SIGUSR1");
      await waitUntil(() => polls() >= poll && daemon.logLines().filter((l) => l.msg === "profile is up to date").length >= poll - 1, `poll ${poll}`);
    }
    const moved = daemon.logLines().filter((l) => String(l.msg).startsWith("Hydra moved this job (a renamed jobset)"));
    // every poll follows the move; only the first one warns
    assert.deepEqual(moved.map(level), ["WARN", "DEBUG", "DEBUG"], daemon.stderr);
    assert.equal(moved[0]?.movedTo, w.gateUrl);
    assert.equal(await daemon.stop("SIGTERM"), 0);
  });
});
