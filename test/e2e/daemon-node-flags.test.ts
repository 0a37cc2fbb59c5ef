// The daemon as its units start it: node with package.json's daemonNodeFlags (the Nix
// package's hail-daemon, nix/systemd/hail@.service). Its idle passes re-read the profile
// and the state file cheaply, and must still see what others change between two passes: a
// rollback by hand, a hold; and still deploy what Hydra offers next.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { HailDaemon } from "../support/cli.js";
import { greenGate, worldWithApps, type World } from "./world.js";

const DAEMON_NODE_FLAGS = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { daemonNodeFlags: string[] }).daemonNodeFlags;

describe("the daemon with the daemon's node flags", () => {
  let w: World;
  let apps: [string, string, string, string];

  before(async () => {
    ({ world: w, apps } = await worldWithApps("1", "2", "3", "4"));
    for (const [gate, app] of [[100, apps[0]], [200, apps[1]]] as const) {
      for (const b of greenGate(gate, gate / 10, app)) w.hydra.addBuild(b);
      const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(await w.profileTarget("myapp"), apps[1]);
  });
  after(() => w.close());

  it("notices a rollback by hand and a hold between its passes, and deploys the next gate build", async () => {
    const daemon = HailDaemon.start([...w.gateArgs("myapp"), "--poll-period", "200ms", "--log-level", "debug"], w.env, DAEMON_NODE_FLAGS);
    try {
      await daemon.waitFor(/profile is up to date/, "an idle pass");

      // someone rolls the profile back by hand while the daemon idles
      const calls = (await w.nixCalls()).length;
      const manual = await execa("nix-env", ["--profile", path.join(w.lab.profilesDir, "myapp"), "--rollback"], { env: w.labEnv, extendEnv: false, reject: false });
      assert.equal(manual.exitCode, 0, manual.stderr);
      await daemon.waitFor(/changed outside hail/, "the next pass to see the rollback");
      assert.equal(await w.profileTarget("myapp"), apps[0], "the rollback is respected");
      assert.equal((await w.nixCalls()).length, calls, "no nix command ran");

      // a hold from another process, then a newer build: held, not deployed
      const hold = await w.hail(["hold", "myapp", ...w.manageArgs(), "--reason", "maintenance"]);
      assert.equal(hold.code, 0, hold.stderr);
      for (const b of greenGate(300, 30, apps[2])) w.hydra.addBuild(b);
      await daemon.waitFor(/not deploying: profile is held[^"]*maintenance/, "the next pass to see the hold");
      assert.equal(await w.profileTarget("myapp"), apps[0]);

      // released: the newest build is deployed by the running daemon
      const release = await w.hail(["release", "myapp", ...w.manageArgs()]);
      assert.equal(release.code, 0, release.stderr);
      await daemon.waitFor(async () => (await w.profileTarget("myapp")) === apps[2], "the deployment after the release");
      for (const b of greenGate(400, 40, apps[3])) w.hydra.addBuild(b);
      await daemon.waitFor(async () => (await w.profileTarget("myapp")) === apps[3], "the next gate build");
      assert.equal(await daemon.stop("SIGTERM"), 0, daemon.stderr);
    } finally {
      if (daemon.alive) await daemon.stop("SIGKILL");
    }
  });
});
