// Only store paths are ever executed (issue 29, point 2), end to end with real Nix: a profile
// link planted to point at a directory of someone's programs is never run from, at start-up,
// on rollback or on retirement, and a profile under a directory others can write, or own, is
// refused before anything is realised or switched. The "local attacker" is a directory chowned
// to nobody or made world-writable inside the lab.
import assert from "node:assert/strict";
import { chmod, chown, mkdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { HAIL_BIN } from "../support/cli.js";
import { pathExists } from "../../src/path-exists.js";
import { createWorld, greenGate, publishedApps, waitUntil, type World } from "./world.js";

const NOBODY = 65534;
const REFUSED = /refusing to run anything from profile/;

describe("hail runs nothing from a profile it cannot trust, real Nix", () => {
  let w: World;
  let app1: string;
  let failing: string;
  /** a directory of programs a local user planted: they leave a marker when they run */
  let evil: string;
  let marker: string;

  before(async () => {
    w = await createWorld();
    [app1, failing] = (await publishedApps(w.lab, { name: "myapp", version: "1" }, { name: "myapp", version: "2", activate: "exit 1" })) as [string, string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    evil = path.join(w.lab.root, "evil");
    marker = path.join(w.lab.root, "evil-ran");
    await mkdir(path.join(evil, "bin"), { recursive: true });
    for (const script of ["activate", "deactivate"]) {
      await writeFile(path.join(evil, "bin", script), `#!/bin/sh\necho "${script} as $(id -u)" >> '${marker}'\n`, { mode: 0o755 });
    }
  });
  after(() => w.close());

  /** Points the profile straight at the planted directory, as `ln -sfn` by another user would. */
  async function plant(profile: string): Promise<void> {
    const link = path.join(w.lab.profilesDir, profile);
    await rm(link, { force: true });
    await symlink(evil, link);
  }

  it("a daemon starting on a planted profile link: refused, counted, not run; it goes on and stops on SIGTERM", async () => {
    await plant("planted");
    const metrics = path.join(w.lab.root, "planted.prom");
    // no gate build of this job: the passes only say "nothing yet"
    const daemon = w.startDaemon([
      "--gate-job", `${w.hydra.url}/job/myproject/main/nothing`, "--constituent", "myapp", "--profile", "planted", ...w.labArgs(),
      "--metrics-file", metrics, "--poll-period", "1h",
    ]);
    await daemon.waitFor(REFUSED, "the refusal");
    await waitUntil(() => pathExists(metrics), "the metrics file");
    assert.equal(await pathExists(marker), false, "evil/bin/activate never ran");
    const line = daemon.stderr.split("\n").find((l) => REFUSED.test(l)) ?? "";
    assert.ok(line.includes(path.join(w.lab.profilesDir, "planted")) && line.includes(`it points to ${evil}, which is not a store path under /nix/store`), line);
    assert.match(await readFile(metrics, "utf8"), /^hail_errors_total\{profile="planted",kind="environment"\} 1$/m);
    assert.equal(await daemon.stop("SIGTERM"), 0, daemon.stderr);
  });

  it("a rollback onto a planted link: the re-activation is refused, the failure says so, nothing runs", async () => {
    await plant("rollback");
    for (const b of greenGate(200, 20, failing)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("rollback"), "--oneshot"]);
    w.hydra.removeBuild(200);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`rollback failed: re-activating ${evil} failed: refusing to run anything from profile`));
    assert.equal(await pathExists(marker), false, "evil/bin/activate never ran");
  });

  it("a profile under a directory others can write: 73 before any nix command, nothing deployed", async () => {
    const shared = path.join(w.lab.profilesDir, "shared");
    await mkdir(shared);
    await chmod(shared, 0o777);
    const before = (await w.nixCalls()).length;
    const r = await w.hail([...w.gateArgs("shared/app"), "--oneshot"]);
    assert.equal(r.code, 73, r.stderr);
    assert.ok(r.stderr.includes(`directory ${shared}: it is writable by group and others (mode 0777)`), r.stderr);
    assert.equal((await w.nixCalls()).length, before, "no nix command ran");
    assert.equal(await w.profileTarget("shared/app"), null);
  });

  it("a profile under a directory another user owns: 73, nothing deployed", async () => {
    const theirs = path.join(w.lab.profilesDir, "theirs");
    await mkdir(theirs, { mode: 0o755 });
    await chown(theirs, NOBODY, NOBODY);
    const r = await w.hail([...w.gateArgs("theirs/app"), "--oneshot"]);
    assert.equal(r.code, 73, r.stderr);
    assert.ok(r.stderr.includes(`directory ${theirs}: it is owned by uid ${NOBODY}, not by root`), r.stderr);
    assert.equal(await w.profileTarget("theirs/app"), null);
  });

  it("directories hail creates for a nested profile name are 0755 even under umask 000, and the deployment goes on", async () => {
    const { NODE_TEST_CONTEXT: _t, ...env } = w.env;
    const r = await execa("sh", ["-c", 'umask 000; exec "$@"', "sh", process.execPath, HAIL_BIN, ...w.gateArgs("made/by/hail"), "--oneshot"], {
      env, extendEnv: false, reject: false, stdin: "ignore",
    });
    assert.equal(r.exitCode, 0, r.stderr);
    for (const dir of ["made", "made/by"]) {
      assert.equal(((await stat(path.join(w.lab.profilesDir, dir))).mode & 0o7777).toString(8), "755", dir);
    }
    assert.equal(await w.profileTarget("made/by/hail"), app1);
  });

  it("a target removed from the config whose profile was planted meanwhile: bin/deactivate is refused, and tried again later", async () => {
    const configFile = path.join(w.lab.root, "hail.json");
    const config = (profiles: string[]) =>
      writeFile(configFile, JSON.stringify({ profilesDir: w.lab.profilesDir, stateDir: w.stateDir, logFormat: "json", targets: profiles.map((profile) => ({ profile, gateJob: w.gateUrl, constituent: "myapp" })) }));
    await config(["kept", "removed"]);
    const first = await w.hail(["--config", configFile, "--oneshot"]);
    assert.equal(first.code, 0, first.stderr);
    await plant("removed");
    await config(["kept"]);
    const r = await w.hail(["--config", configFile, "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /deactivating removed target removed failed: refusing to run anything from profile/);
    assert.equal(await pathExists(marker), false, "evil/bin/deactivate never ran");
    assert.equal((await w.readState("removed"))?.retiredAt, null, "not marked retired: tried again at the next start");
  });
});
