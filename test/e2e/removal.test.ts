// Service removal end to end: when a target disappears from the config file, hail runs its
// profile's bin/deactivate once (if there is one), marks the state file retired and stops
// managing it; the profile stays. Only state files of this config file are touched. The
// tests run in order on one lab, as an operator would edit one file over time.
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HailDaemon, readLines } from "../support/cli.js";
import type { FakeBuild } from "../support/hydra-server.js";
import { createWorld, waitUntil, type World } from "./world.js";

/** bin/deactivate: one line on stdout and in the deactivation log; exits with HAIL_TEST_DEACTIVATE_EXIT when set. */
const DEACTIVATE = [
  'if [ -n "${HAIL_TEST_DEACTIVATE_EXIT:-}" ]; then echo "deactivation of $out fails"; exit "$HAIL_TEST_DEACTIVATE_EXIT"; fi',
  'line="deactivated $out profile=${HAIL_PROFILE:-}"',
  'echo "$line"',
  'if [ -n "${HAIL_TEST_DEACTIVATION_LOG:-}" ]; then echo "$line" >> "$HAIL_TEST_DEACTIVATION_LOG"; fi',
].join("\n");

const SERVICES = ["alpha", "beta", "gamma", "delta", "solo", "epsilon"] as const;
type Service = (typeof SERVICES)[number];

describe("removing a target from the config file, real Nix", () => {
  let w: World;
  let deactivationLog: string;
  let configFile: string;
  let otherConfigFile: string;
  const apps = {} as Record<Service, string>;
  const gateId = 100;

  before(async () => {
    w = await createWorld();
    deactivationLog = path.join(w.lab.root, "deactivations.log");
    configFile = path.join(w.lab.root, "hail.json");
    otherConfigFile = path.join(w.lab.root, "other-hail.json");
    // alpha has no bin/deactivate; every other service has one
    for (const name of SERVICES) {
      apps[name] = await w.lab.buildApp(name, "1", name === "alpha" ? {} : { deactivate: DEACTIVATE });
    }
    const paths = Object.values(apps);
    await w.lab.publish(...paths);
    await w.lab.deleteLocal(...paths);
    const base = { project: "myproject", jobset: "main", finished: true, buildstatus: 0, jobsetevals: [10] };
    const builds: FakeBuild[] = [
      { ...base, id: gateId, job: "release_gate", outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: SERVICES.map((_, i) => gateId + 1 + i) },
      ...SERVICES.map((name, i): FakeBuild => ({ ...base, id: gateId + 1 + i, job: name, outputs: { out: apps[name] } })),
    ];
    for (const b of builds) w.hydra.addBuild(b);
  });
  after(() => w.close());

  const target = (name: Service) => ({ profile: name, gateJob: w.gateUrl, constituent: name });
  async function writeConfig(file: string, names: Service[]): Promise<string> {
    await writeFile(file, JSON.stringify({ profilesDir: w.lab.profilesDir, stateDir: w.stateDir, logFormat: "json", targets: names.map(target) }, null, 2));
    return file;
  }
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ HAIL_TEST_DEACTIVATION_LOG: deactivationLog, ...extra });
  const oneshot = (file: string, extra: NodeJS.ProcessEnv = {}) => w.hail(["--config", file, "--oneshot"], env(extra));
  const deactivations = () => readLines(deactivationLog);
  const deactivated = (name: Service) => `deactivated ${apps[name]} profile=${path.join(w.lab.profilesDir, name)}`;

  it("a one-shot deploys targets alpha and beta, marking their state files with the config file", async () => {
    const r = await oneshot(await writeConfig(configFile, ["alpha", "beta"]));
    assert.equal(r.code, 0, r.stderr);
    for (const name of ["alpha", "beta"] as const) {
      assert.equal(await w.profileTarget(name), apps[name]);
      const state = await w.readState(name);
      assert.equal(state?.managedBy, path.resolve(configFile));
      assert.equal(state?.retiredAt, null);
    }
    assert.deepEqual(await deactivations(), [], "nothing deactivated yet");
  });

  it("beta removed: the next one-shot runs beta's bin/deactivate once, marks it retired, keeps its profile, leaves alpha alone", async () => {
    const alphaBefore = await w.readState("alpha");
    const activationsBefore = await w.activations();
    const r = await oneshot(await writeConfig(configFile, ["alpha"]));
    assert.equal(r.code, 0, r.stderr);

    assert.deepEqual(await deactivations(), [deactivated("beta")], "bin/deactivate ran once, with HAIL_PROFILE");
    const beta = await w.readState("beta");
    assert.ok(beta?.retiredAt != null && !Number.isNaN(Date.parse(beta.retiredAt)), `retiredAt is a time: ${JSON.stringify(beta?.retiredAt)}`);
    assert.equal(beta.lastDeployed?.storePath, apps.beta, "the record of what was deployed is kept");
    assert.equal(await w.profileTarget("beta"), apps.beta, "the profile stays: removing software is the deactivation's call");
    assert.deepEqual(await w.generations("beta"), [1]);

    assert.equal(await w.profileTarget("alpha"), apps.alpha);
    assert.deepEqual(await w.generations("alpha"), [1]);
    const alpha = await w.readState("alpha");
    assert.equal(alpha?.retiredAt, null);
    assert.deepEqual(alpha?.lastDeployed, alphaBefore?.lastDeployed);
    assert.deepEqual(await w.activations(), activationsBefore, "no activation ran: alpha was current, beta is not activated again");
  });

  it("a third run does not deactivate beta again", async () => {
    const retiredAt = (await w.readState("beta"))?.retiredAt;
    const r = await oneshot(configFile);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await deactivations(), [deactivated("beta")]);
    assert.equal((await w.readState("beta"))?.retiredAt, retiredAt, "retiredAt is not rewritten");
  });

  it("state files of another config file, or of a hail run by flags, in the same state dir are left alone", async () => {
    const other = await oneshot(await writeConfig(otherConfigFile, ["gamma"]));
    assert.equal(other.code, 0, other.stderr);
    const solo = await w.hail([...w.gateArgs("solo", "solo"), "--oneshot"], env());
    assert.equal(solo.code, 0, solo.stderr);
    assert.equal((await w.readState("gamma"))?.managedBy, path.resolve(otherConfigFile));
    assert.equal((await w.readState("solo"))?.managedBy, null);

    const r = await oneshot(configFile);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await deactivations(), [deactivated("beta")], "neither gamma nor solo was deactivated");
    for (const name of ["gamma", "solo"] as const) {
      assert.equal((await w.readState(name))?.retiredAt, null, name);
      assert.equal(await w.profileTarget(name), apps[name], name);
    }
    assert.equal((await w.readState("gamma"))?.managedBy, path.resolve(otherConfigFile), "gamma still belongs to the other file");
  });

  it("a daemon that starts on a config without a target deactivates it too", async () => {
    const deployed = await oneshot(await writeConfig(configFile, ["alpha", "delta"]));
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal(await w.profileTarget("delta"), apps.delta);

    await writeConfig(configFile, ["alpha"]);
    const daemon = HailDaemon.start(["--config", configFile, "--poll-period", "1h"], { ...w.env, ...env() });
    try {
      await waitUntil(async () => (await deactivations()).includes(deactivated("delta")), "delta's deactivation");
      await waitUntil(async () => (await w.readState("delta"))?.retiredAt != null, "delta marked retired");
      assert.equal(await w.profileTarget("delta"), apps.delta);
      assert.equal(await daemon.stop("SIGTERM"), 0);
    } finally {
      if (daemon.alive) await daemon.stop("SIGKILL");
    }
    assert.deepEqual(await deactivations(), [deactivated("beta"), deactivated("delta")], "beta was not deactivated again");
  });

  it("a target added back is managed again; removed again, it is deactivated again", async () => {
    const back = await oneshot(await writeConfig(configFile, ["alpha", "beta"]));
    assert.equal(back.code, 0, back.stderr);
    const beta = await w.readState("beta");
    assert.equal(beta?.retiredAt, null, "managing it again clears retiredAt");
    assert.equal(beta?.managedBy, path.resolve(configFile));
    assert.equal(await w.profileTarget("beta"), apps.beta);

    const gone = await oneshot(await writeConfig(configFile, ["alpha"]));
    assert.equal(gone.code, 0, gone.stderr);
    assert.deepEqual((await deactivations()).filter((l) => l === deactivated("beta")).length, 2);
  });

  it("a bin/deactivate that fails leaves the target unretired, and the next run tries again", async () => {
    const deployed = await oneshot(await writeConfig(configFile, ["alpha", "epsilon"]));
    assert.equal(deployed.code, 0, deployed.stderr);
    await writeConfig(configFile, ["alpha"]);

    const failing = await oneshot(configFile, { HAIL_TEST_DEACTIVATE_EXIT: "1" });
    assert.ok(failing.stderr.includes("epsilon"), `the failure is logged, naming the target: ${failing.stderr}`);
    assert.equal((await w.readState("epsilon"))?.retiredAt, null, "not retired while its deactivation failed");
    assert.ok(!(await deactivations()).includes(deactivated("epsilon")));

    const retried = await oneshot(configFile);
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal((await deactivations()).filter((l) => l === deactivated("epsilon")).length, 1);
    assert.ok((await w.readState("epsilon"))?.retiredAt != null);
  });

  it("a removed target without bin/deactivate is retired all the same, its profile kept", async () => {
    const before = (await deactivations()).length;
    const r = await oneshot(await writeConfig(configFile, ["beta"]));
    assert.equal(r.code, 0, r.stderr);
    const alpha = await w.readState("alpha");
    assert.ok(alpha?.retiredAt != null, "alpha retired");
    assert.equal(await w.profileTarget("alpha"), apps.alpha);
    assert.equal((await deactivations()).length, before, "nothing else was deactivated");
    assert.equal((await w.readState("beta"))?.retiredAt, null, "beta, back in the file, is managed");
  });

  it("a configured target whose lock another hail holds is left out, not mistaken for a removed one", async () => {
    const before = await deactivations();
    // a lock held by a live process: this test runner
    const lockFile = w.stateFile("beta").replace(/\.json$/, ".lock");
    await writeFile(lockFile, JSON.stringify({ pid: process.pid, hostname: hostname(), since: new Date().toISOString(), processStart: null, command: "daemon" }));
    try {
      const r = await oneshot(configFile);
      assert.equal(r.code, 75, r.stderr);
      assert.match(r.stderr, new RegExp(`locked by another hail \\(pid ${process.pid}`));
      assert.deepEqual(await deactivations(), before, "beta was not deactivated");
      assert.equal((await w.readState("beta"))?.retiredAt, null);
    } finally {
      await rm(lockFile, { force: true });
    }
  });
});
