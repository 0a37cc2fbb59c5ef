// What an operator does by hand, end to end (README, "Safety"): a manual `nix-env --rollback` is
// respected until Hydra offers something newer, and `hail hold` / `hail release` pause and
// resume deployments.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { createWorld, greenGate, publishedApps, waitUntil, worldAtGreenGate, type World } from "./world.js";

describe("a profile changed outside hail", () => {
  let w: World;
  let app1: string;
  let app2: string;
  let app3: string;

  before(async () => {
    w = await createWorld();
    [app1, app2, app3] = (await publishedApps(
      w.lab,
      { name: "myapp", version: "1" },
      { name: "myapp", version: "2" },
      { name: "myapp", version: "3" },
    )) as [string, string, string];
    for (const [gate, app] of [[100, app1], [200, app2]] as const) {
      for (const b of greenGate(gate, gate / 10, app)) w.hydra.addBuild(b);
      const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(await w.profileTarget("myapp"), app2);
  });
  after(() => w.close());

  it("after a manual nix-env --rollback, --oneshot leaves the profile at v1, warns, runs no nix command, exit 0", async () => {
    const manual = await execa("nix-env", ["--profile", path.join(w.lab.profilesDir, "myapp"), "--rollback"], { env: w.labEnv, extendEnv: false, reject: false });
    assert.equal(manual.exitCode, 0, manual.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);

    const calls = await w.nixCalls();
    const activations = await w.activations();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
    const warnings = r.stderr.split("\n").filter((l) => l.includes('"logLevelName":"WARN"'));
    assert.ok(warnings.some((l) => /changed outside hail/.test(l)), `a warning about the change outside hail:\n${r.stderr}`);
    assert.deepEqual(await w.nixCalls(), calls, "no nix command ran");
    assert.deepEqual(await w.activations(), activations, "nothing was activated");

    const plan = await w.hail(["plan", ...w.gateArgs("myapp"), "--json"]);
    const report = JSON.parse(plan.stdout) as { action: string; reason: string | null };
    assert.equal(report.action, "skip");
    assert.match(report.reason ?? "", /changed outside hail/);
  });

  it("when Hydra offers v3, it is deployed", async () => {
    for (const b of greenGate(300, 30, app3)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app3);
    assert.equal((await w.activations()).at(-1), `activated ${app3} build=301`);
    assert.equal((await w.readState("myapp"))?.lastDeployed?.storePath, app3);
  });
});

describe("hail hold and hail release", () => {
  let w: World;
  let app1: string;
  let app2: string;
  let app3: string;
  let app4: string;

  before(async () => {
    ({ world: w, apps: [app1, app2, app3, app4] } = await worldAtGreenGate("1", "2", "3", "4"));
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => w.close());

  it("a held profile is not deployed: oneshot exits 0 and says held, plan says held, status shows the reason, a daemon skips", async () => {
    const hold = await w.hail(["hold", "myapp", "--reason", "freeze", ...w.manageArgs()]);
    assert.equal(hold.code, 0, hold.stderr);
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);

    const calls = await w.nixCalls();
    const activations = await w.activations();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /held.*freeze/);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.deepEqual(await w.nixCalls(), calls, "no nix command ran");
    assert.deepEqual(await w.activations(), activations);

    const plan = await w.hail(["plan", ...w.gateArgs("myapp"), "--json", "--detailed-exitcode"]);
    assert.equal(plan.code, 0, plan.stderr);
    const report = JSON.parse(plan.stdout) as { action: string; reason: string | null };
    assert.equal(report.action, "held");
    assert.match(report.reason ?? "", /freeze/);

    const status = await w.hail(["status", "myapp", "--json", ...w.manageArgs()]);
    const s = JSON.parse(status.stdout) as { hold: { reason: string | null; until: string | null } | null };
    assert.equal(s.hold?.reason, "freeze");
    assert.equal(s.hold?.until, null);

    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1h"]);
    await daemon.waitFor(/not deploying: profile is held[^"]*freeze/, "the daemon to skip the held profile");
    assert.equal(await daemon.stop("SIGTERM"), 0);
    assert.equal(await w.profileTarget("myapp"), app1);
  });

  it("hail release: the next oneshot deploys", async () => {
    const release = await w.hail(["release", "myapp", ...w.manageArgs()]);
    assert.equal(release.code, 0, release.stderr);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app2);
    assert.equal((await w.readState("myapp"))?.hold, null);
  });

  it("hold --until a time in the past is refused (64) and sets no hold", async () => {
    const r = await w.hail(["hold", "myapp", "--until", "2020-01-01T00:00:00Z", ...w.manageArgs()]);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /not in the future/);
    assert.equal((await w.readState("myapp"))?.hold, null);
  });

  it("hold --until 1h holds; hold --until 2s ends by itself", async () => {
    for (const b of greenGate(300, 30, app3)) w.hydra.addBuild(b);
    const long = await w.hail(["hold", "myapp", "--until", "1h", ...w.manageArgs()]);
    assert.equal(long.code, 0, long.stderr);
    const held = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, /held until/);
    assert.equal(await w.profileTarget("myapp"), app2);

    const short = await w.hail(["hold", "myapp", "--until", "2s", ...w.manageArgs()]);
    assert.equal(short.code, 0, short.stderr);
    const until = (await w.readState("myapp"))?.hold?.until;
    assert.ok(until, "the hold has an end");
    await waitUntil(() => Date.now() > Date.parse(until) + 100, "the hold to expire");
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app3);
    assert.equal((await w.activations()).at(-1), `activated ${app3} build=301`);
  });

  it("an expired hold no longer shows as held", async () => {
    for (const b of greenGate(400, 40, app4)) w.hydra.addBuild(b);
    const plan = await w.hail(["plan", ...w.gateArgs("myapp"), "--json"]);
    assert.equal((JSON.parse(plan.stdout) as { action: string }).action, "deploy");
    const status = await w.hail(["status", "myapp", ...w.manageArgs()]);
    assert.doesNotMatch(status.stdout, /^hold: +held/m, status.stdout);
  });
});
