// Staged rollout end to end (--rollout-window, --rollout-key): a host deploys a new
// gate build only from stoptime + window × f(key, gate build id). The test picks keys whose f
// it knows (the same rolloutFraction hail uses), so every expected time is exact; "late" keys
// wait at least half an hour, far beyond the length of any test.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { rolloutFraction } from "../../src/resolve/rollout.js";
import { HailDaemon } from "../support/cli.js";
import type { FakeBuild } from "../support/hydra-server.js";
import { createWorld, publishedApps, type World } from "./world.js";

const HOUR = 3_600_000;

/** The first key host-N whose fraction for this gate build passes `test`, with that fraction. */
function keyWhere(gateId: number, test: (f: number) => boolean): { key: string; f: number } {
  for (let i = 0; ; i++) {
    const key = `host-${i}.fleet.example`;
    const f = rolloutFraction(key, gateId);
    if (test(f)) return { key, f };
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("staged rollout with real Nix", () => {
  let w: World;
  let app1: string;
  let app2: string;

  before(async () => {
    w = await createWorld();
    [app1, app2] = (await publishedApps(w.lab, { name: "myapp", version: "1" }, { name: "myapp", version: "2" })) as [string, string];
  });
  after(() => w.close());

  const gateUrl = (jobset: string) => `${w.hydra.url}/job/myproject/${jobset}/release_gate`;

  /** A green gate `id` in its own jobset, finished at `stoptime`, with constituent myapp = `appPath`. */
  function addGate(jobset: string, id: number, appPath: string, stoptime: number): void {
    const base = { project: "myproject", jobset, finished: true, buildstatus: 0, jobsetevals: [id] };
    const builds: FakeBuild[] = [
      { ...base, id, job: "release_gate", outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: [id + 1], stoptime },
      { ...base, id: id + 1, job: "myapp", outputs: { out: appPath } },
    ];
    for (const b of builds) w.hydra.addBuild(b);
  }

  const args = (jobset: string, profile: string, ...extra: string[]) => ["--gate-job", gateUrl(jobset), "--constituent", "myapp", "--profile", profile, ...w.labArgs(), ...extra];
  const rollout = (key: string, window = "1h") => ["--rollout-window", window, "--rollout-key", key];

  it("a key whose turn is late: --oneshot exits 75 and changes nothing; plan says when the turn comes", async () => {
    const stoptime = nowSeconds();
    addGate("late", 100, app1, stoptime);
    const { key, f } = keyWhere(100, (x) => x >= 0.5);
    const notBefore = new Date(stoptime * 1000 + Math.floor(HOUR * f)).toISOString();
    const callsBefore = (await w.nixCalls()).length;
    const activationsBefore = (await w.activations()).length;

    const r = await w.hail(args("late", "late", "--oneshot", ...rollout(key)));
    assert.equal(r.code, 75, r.stderr);
    assert.ok(r.stdout.includes(notBefore), `the result names this host's turn ${notBefore}: ${r.stdout}`);
    assert.equal(await w.profileTarget("late"), null);
    assert.equal((await w.nixCalls()).length, callsBefore, "no nix command ran");
    assert.equal((await w.activations()).length, activationsBefore, "nothing was activated");

    const plan = await w.hail(["plan", ...args("late", "late", "--json", ...rollout(key))]);
    assert.equal(plan.code, 0, plan.stderr);
    const report = JSON.parse(plan.stdout) as { action: string; notBefore: string | null; reason: string | null; gateBuildId: number; buildId: number };
    assert.equal(report.action, "wait");
    assert.equal(report.notBefore, notBefore);
    assert.equal(report.gateBuildId, 100);
    assert.equal(report.buildId, 101);
    assert.ok(report.reason?.includes(notBefore), `reason: ${report.reason}`);

    const text = await w.hail(["plan", ...args("late", "late", ...rollout(key))]);
    assert.match(text.stdout, new RegExp(`^action: +wait: .*${notBefore.replace(/\./g, "\\.")}`, "m"));
  });

  it("the waiting host moves straight to a newer gate build whose turn has passed (one-shot)", async () => {
    const { key } = keyWhere(100, (x) => x >= 0.5);
    // gate 200 finished long ago: whatever f is for this key, the window is over
    addGate("late", 200, app2, 1_700_000_000);
    const r = await w.hail(args("late", "late", "--oneshot", ...rollout(key)));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployed build 201 /);
    assert.equal(await w.profileTarget("late"), app2);
    assert.deepEqual(await w.generations("late"), [1], "build 101 was never deployed: the host went straight to 201");
  });

  it("across a fleet: on one gate build the early key deploys, the late key waits", async () => {
    // half an hour ago: keys with f < 0.25 had their turn, keys with f > 0.75 have not
    const stoptime = nowSeconds() - 1800;
    addGate("fleet", 300, app1, stoptime);
    const early = keyWhere(300, (x) => x < 0.25);
    const late = keyWhere(300, (x) => x > 0.75);

    const first = await w.hail(args("fleet", "fleet-early", "--oneshot", ...rollout(early.key)));
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await w.profileTarget("fleet-early"), app1);

    const second = await w.hail(args("fleet", "fleet-late", "--oneshot", ...rollout(late.key)));
    assert.equal(second.code, 75, second.stderr);
    assert.equal(await w.profileTarget("fleet-late"), null);

    const plans = await Promise.all([early, late].map(async ({ key }) => {
      const r = await w.hail(["plan", ...args("fleet", `plan-${key}`, "--json", ...rollout(key))]);
      const { action, notBefore } = JSON.parse(r.stdout) as { action: string; notBefore: string | null };
      return { action, notBefore };
    }));
    assert.deepEqual(plans, [
      { action: "deploy", notBefore: null },
      { action: "wait", notBefore: new Date(stoptime * 1000 + Math.floor(HOUR * late.f)).toISOString() },
    ]);
  });

  it("a waiting daemon deploys a newer gate build as soon as Hydra offers it", async () => {
    addGate("daemon", 400, app1, nowSeconds());
    const { key } = keyWhere(400, (x) => x >= 0.5);
    const daemon = HailDaemon.start(args("daemon", "waiting", "--poll-period", "1s", ...rollout(key)), w.env);
    try {
      await daemon.waitFor(/staged rollout/, "the daemon to wait for its turn");
      await daemon.waitFor(() => daemon.logLines().filter((l) => String(l.msg).includes("staged rollout")).length >= 2, "a second waiting poll");
      assert.equal(await w.profileTarget("waiting"), null, "still waiting for build 401's turn");

      addGate("daemon", 500, app2, 1_700_000_000);
      // the activation is the last step of a deployment: wait for it, not for the profile switch
      await daemon.waitFor(async () => (await w.activations()).includes(`activated ${app2} build=501`), "the newer build to be deployed");
      assert.equal(await w.profileTarget("waiting"), app2);
      assert.deepEqual(await w.generations("waiting"), [1], "the build it waited for was skipped");
      assert.ok(daemon.alive);
      assert.equal(await daemon.stop("SIGTERM"), 0);
    } finally {
      if (daemon.alive) await daemon.stop("SIGKILL");
    }
  });

  it("a hold stops a host whose turn has come; release lets it deploy", async () => {
    addGate("hold", 600, app1, 1_700_000_000);
    const { key } = keyWhere(600, (x) => x >= 0.5);
    const held = await w.hail(["hold", "held", "--new", ...w.manageArgs(), "--reason", "bad build on the early hosts"]);
    assert.equal(held.code, 0, held.stderr);

    const r = await w.hail(args("hold", "held", "--oneshot", ...rollout(key)));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /held/);
    assert.equal(await w.profileTarget("held"), null, "the hold stopped the deployment");
    const plan = JSON.parse((await w.hail(["plan", ...args("hold", "held", "--json", ...rollout(key))])).stdout) as { action: string };
    assert.equal(plan.action, "held");

    assert.equal((await w.hail(["release", "held", ...w.manageArgs()])).code, 0);
    const released = await w.hail(args("hold", "held", "--oneshot", ...rollout(key)));
    assert.equal(released.code, 0, released.stderr);
    assert.equal(await w.profileTarget("held"), app1, "its turn had come: released, it deploys");
  });

  it("without --rollout-key the key is the host name", async () => {
    // a gate build id for which this machine's turn is late, whatever its name
    let gateId = 900;
    while (rolloutFraction(hostname(), gateId) < 0.5) gateId += 2;
    const stoptime = nowSeconds();
    addGate("hostname", gateId, app1, stoptime);
    const notBefore = new Date(stoptime * 1000 + Math.floor(HOUR * rolloutFraction(hostname(), gateId))).toISOString();
    const r = await w.hail(["plan", ...args("hostname", "by-hostname", "--json", "--rollout-window", "1h")]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { action: string; notBefore: string | null; reason: string };
    assert.deepEqual([report.action, report.notBefore], ["wait", notBefore]);
    assert.ok(report.reason.includes(JSON.stringify(hostname())), `the reason names the key: ${report.reason}`);
  });

  it("--rollout-window 0 (and no window at all) deploys at once, whatever the key", async () => {
    addGate("zero", 700, app1, nowSeconds());
    const { key } = keyWhere(700, (x) => x >= 0.5);
    // the same key with a window would wait: the window is what makes the difference
    assert.equal((await w.hail(args("zero", "zero-window", "--oneshot", ...rollout(key)))).code, 75);

    const r = await w.hail(args("zero", "zero-window", "--oneshot", ...rollout(key, "0")));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("zero-window"), app1);

    const plain = await w.hail(args("zero", "zero-default", "--oneshot", "--rollout-key", key));
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(await w.profileTarget("zero-default"), app1);
  });

  it("in a config file: rolloutWindow and rolloutKey per target; plan --config shows each target's turn", async () => {
    const stoptime = nowSeconds();
    addGate("config", 800, app1, stoptime);
    const { key, f } = keyWhere(800, (x) => x >= 0.5);
    const file = path.join(w.lab.root, "rollout-config.json");
    await writeFile(file, JSON.stringify({
      profilesDir: w.lab.profilesDir,
      stateDir: w.stateDir,
      logFormat: "json",
      targets: [
        { profile: "cfg-staged", gateJob: gateUrl("config"), constituent: "myapp", rolloutWindow: "1h", rolloutKey: key },
        { profile: "cfg-at-once", gateJob: gateUrl("config"), constituent: "myapp" },
      ],
    }));
    const plan = await w.hail(["plan", "--config", file, "--json"]);
    assert.equal(plan.code, 0, plan.stderr);
    const targets = (JSON.parse(plan.stdout) as { targets: { profile: { name: string }; action: string; notBefore: string | null }[] }).targets;
    assert.deepEqual(targets.map((t) => [t.profile.name, t.action, t.notBefore]), [
      ["cfg-staged", "wait", new Date(stoptime * 1000 + Math.floor(HOUR * f)).toISOString()],
      ["cfg-at-once", "deploy", null],
    ]);

    const r = await w.hail(["--config", file, "--oneshot"]);
    assert.equal(r.code, 75, r.stderr);
    assert.equal(await w.profileTarget("cfg-staged"), null);
    assert.equal(await w.profileTarget("cfg-at-once"), app1);
  });
});

