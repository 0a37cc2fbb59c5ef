// `hail --config FILE` end to end (README, "Config file"): one process serves every target of the file,
// targets behind one gate share its requests, each target keeps its own lock, state file and
// metrics label, and a failing target never stops the others. The built CLI, real Nix and the
// Hydra test server; each scenario has its own jobset, profiles dir and state dir.
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import type { State } from "../../src/state/schema.js";
import { HailDaemon, type HailRun } from "../support/cli.js";
import type { FakeBuild } from "../support/hydra-server.js";
import { apiRequestCounts, createWorld, publishedApps, stateKey, waitUntil, type World } from "./world.js";

interface FleetTarget { profile: string; [key: string]: unknown }

/** One scenario: a gate with constituents myapp and worker, a plain job "standalone", and a config file. */
interface Fleet {
  gateId: number;
  standaloneId: number;
  gateUrl: string;
  jobUrl: string;
  profilesDir: string;
  stateDir: string;
  file: string;
  /** the three usual targets: myapp and worker behind the gate, standalone by --job-uri */
  targets: { myapp: FleetTarget; worker: FleetTarget; standalone: FleetTarget };
  write(targets: FleetTarget[], extra?: Record<string, unknown>): Promise<string>;
  profileTarget(profile: string): Promise<string | null>;
  readState(profile: string): Promise<State | null>;
}

interface Paths { myapp: string; worker: string; standalone: string }

describe("hail --config with three targets, real Nix", () => {
  let w: World;
  let apps: Paths;
  let brokenWorker: string;
  let newer: { myapp: string; worker: string };
  let next = 0;

  before(async () => {
    w = await createWorld();
    const [myapp, worker, standalone, broken, myapp3, worker3] = (await publishedApps(
      w.lab,
      { name: "myapp", version: "1" },
      { name: "worker", version: "1" },
      { name: "standalone", version: "1" },
      { name: "worker", version: "2", activate: 'echo "worker $out refuses to start"\nexit 1' },
      { name: "myapp", version: "3" },
      { name: "worker", version: "3" },
    )) as [string, string, string, string, string, string];
    apps = { myapp, worker, standalone };
    brokenWorker = broken;
    newer = { myapp: myapp3, worker: worker3 };
  });
  after(() => w.close());

  /** A fresh jobset with gate N*1000 (constituents N*1000+1 myapp, +2 worker) and standalone N*1000+50. */
  async function fleet(name: string, paths: Paths = apps, workerOverrides: Partial<FakeBuild> = {}): Promise<Fleet> {
    next += 1;
    const gateId = next * 1000;
    const evalId = next * 10;
    const base = { project: "myproject", jobset: name, finished: true, buildstatus: 0, jobsetevals: [evalId] };
    const builds: FakeBuild[] = [
      { ...base, id: gateId, job: "release_gate", outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: [gateId + 1, gateId + 2] },
      { ...base, id: gateId + 1, job: "myapp", outputs: { out: paths.myapp } },
      { ...base, id: gateId + 2, job: "worker", outputs: { out: paths.worker }, ...workerOverrides },
      { ...base, id: gateId + 50, job: "standalone", jobsetevals: [evalId + 1], outputs: { out: paths.standalone } },
    ];
    for (const b of builds) w.hydra.addBuild(b);
    const dir = path.join(w.lab.root, name);
    const profilesDir = path.join(dir, "profiles");
    const stateDir = path.join(dir, "state");
    await mkdir(profilesDir, { recursive: true });
    const gateUrl = `${w.hydra.url}/job/myproject/${name}/release_gate`;
    const jobUrl = `${w.hydra.url}/job/myproject/${name}/standalone`;
    const file = path.join(dir, "hail.json");
    return {
      gateId,
      standaloneId: gateId + 50,
      gateUrl,
      jobUrl,
      profilesDir,
      stateDir,
      file,
      targets: {
        myapp: { profile: "myapp", gateJob: gateUrl, constituent: "myapp" },
        worker: { profile: "worker", gateJob: gateUrl, constituent: "worker" },
        standalone: { profile: "standalone", jobUri: jobUrl },
      },
      async write(targets, extra = {}) {
        await writeFile(file, JSON.stringify({ profilesDir, stateDir, logFormat: "json", targets, ...extra }, null, 2));
        return file;
      },
      async profileTarget(profile) {
        try {
          const link = path.join(profilesDir, profile);
          return await readlink(path.resolve(path.dirname(link), await readlink(link)));
        } catch {
          return null;
        }
      },
      async readState(profile) {
        try {
          return JSON.parse(await readFile(path.join(stateDir, `${stateKey(path.join(profilesDir, profile))}.json`), "utf8")) as State;
        } catch {
          return null;
        }
      },
    };
  }

  const all = (f: Fleet) => [f.targets.myapp, f.targets.worker, f.targets.standalone];

  /** Hydra API requests (not the binary cache) by path, with how often each was made. */
  function apiRequests(): Map<string, number> {
    return apiRequestCounts(w.hydra);
  }

  async function activationsSince(count: number): Promise<string[]> {
    return (await w.activations()).slice(count);
  }

  it("one --oneshot deploys all three, each to its own profile and state file; the gate is asked once", async () => {
    const f = await fleet("three");
    const file = await f.write(all(f));
    const activationsBefore = (await w.activations()).length;
    w.hydra.resetRequests();

    const r = await w.hail(["--config", file, "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`deployed build ${f.gateId + 1} \\S+ to myapp`));
    assert.match(r.stdout, new RegExp(`deployed build ${f.gateId + 2} \\S+ to worker`));
    assert.match(r.stdout, new RegExp(`deployed build ${f.standaloneId} \\S+ to standalone`));

    assert.equal(await f.profileTarget("myapp"), apps.myapp);
    assert.equal(await f.profileTarget("worker"), apps.worker);
    assert.equal(await f.profileTarget("standalone"), apps.standalone);
    assert.deepEqual((await activationsSince(activationsBefore)).sort(), [
      `activated ${apps.myapp} build=${f.gateId + 1}`,
      `activated ${apps.standalone} build=${f.standaloneId}`,
      `activated ${apps.worker} build=${f.gateId + 2}`,
    ].sort());

    // STATE_DIR/<profile>.json each, marked with the config file that manages it
    const expected: [string, string, number, number | null][] = [
      ["myapp", apps.myapp, f.gateId + 1, f.gateId],
      ["worker", apps.worker, f.gateId + 2, f.gateId],
      ["standalone", apps.standalone, f.standaloneId, null],
    ];
    for (const [profile, storePath, buildId, gateBuildId] of expected) {
      const state = await f.readState(profile);
      assert.ok(state, `${f.stateDir}/${profile}.json exists`);
      assert.equal(state.profile, profile);
      assert.equal(state.profilePath, path.join(f.profilesDir, profile));
      assert.equal(state.lastDeployed?.storePath, storePath);
      assert.equal(state.lastDeployed?.buildId, buildId);
      assert.equal(state.lastDeployed?.gateBuildId, gateBuildId);
      assert.equal(state.managedBy, path.resolve(file));
    }
    assert.deepEqual((await readdir(f.stateDir)).filter((n) => n.endsWith(".json")).sort(), ["myapp", "standalone", "worker"].map((p) => `${stateKey(path.join(f.profilesDir, p))}.json`));

    const requests = apiRequests();
    const gatePath = `/job/myproject/three/release_gate`;
    assert.equal(requests.get(`${gatePath}/latest-finished`), 1, "one latest-finished for both gate targets");
    assert.equal(requests.get(`/build/${f.gateId}`), 1, "one gate build request");
    assert.equal(requests.get(`/build/${f.gateId}/constituents`), 1, "one constituents request");
    assert.equal(requests.get(`/job/myproject/three/standalone/latest`), 1);
    assert.equal(requests.get(`/build/${f.standaloneId}`), 1);
    assert.deepEqual([...requests.keys()].sort(), [
      `${gatePath}/latest-finished`,
      `/build/${f.gateId}`,
      `/build/${f.gateId}/constituents`,
      `/build/${f.standaloneId}`,
      `/job/myproject/three/standalone/latest`,
    ].sort());

    // An idle run: one redirect for the gate (shared by two targets) and one for the job.
    w.hydra.resetRequests();
    const idle = await w.hail(["--config", file, "--oneshot"]);
    assert.equal(idle.code, 0, idle.stderr);
    assert.deepEqual(
      [...apiRequests().entries()].sort(),
      [[`${gatePath}/latest-finished`, 1], [`/job/myproject/three/standalone/latest`, 1]].sort(),
    );
  });

  it("a daemon with --metrics-file writes one series set per profile label; each profile has its own lock", async () => {
    const f = await fleet("metrics");
    const file = await f.write(all(f));
    const metricsFile = path.join(w.lab.root, "metrics", "hail.prom");
    const daemon = HailDaemon.start(["--config", file, "--metrics-file", metricsFile, "--poll-period", "1h"], w.env);
    try {
      const readMetrics = async () => {
        try {
          return await readFile(metricsFile, "utf8");
        } catch {
          return "";
        }
      };
      await waitUntil(async () => (await readMetrics()).includes(`hail_deployed_build_id{profile="standalone"} ${f.standaloneId}`), "the metrics of the first pass");
      const text = await readMetrics();
      const promtool = await execa("promtool", ["check", "metrics"], { input: text, reject: false, all: true });
      assert.equal(promtool.exitCode, 0, `promtool check metrics: ${promtool.all ?? ""}\n${text}`);

      const samples = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
      for (const family of ["hail_up_to_date", "hail_deployed_build_id", "hail_last_check_timestamp_seconds", "hail_last_success_timestamp_seconds", "hail_deployments_total", "hail_rollbacks_total", "hail_errors_total"]) {
        assert.equal(text.split("\n").filter((l) => l === `# TYPE ${family} gauge` || l === `# TYPE ${family} counter`).length, 1, `one TYPE line for ${family}`);
        for (const profile of ["myapp", "worker", "standalone"]) {
          assert.ok(samples.some((l) => l.startsWith(`${family}{profile="${profile}"`)), `${family} for ${profile}`);
        }
      }
      const valueOf = (series: string) => {
        const line = samples.find((l) => l.startsWith(`${series} `));
        assert.ok(line, `${series} in:\n${text}`);
        return Number(line.slice(series.length + 1));
      };
      assert.equal(valueOf(`hail_deployed_build_id{profile="myapp"}`), f.gateId + 1);
      assert.equal(valueOf(`hail_deployed_build_id{profile="worker"}`), f.gateId + 2);
      assert.equal(valueOf(`hail_deployed_build_id{profile="standalone"}`), f.standaloneId);
      for (const profile of ["myapp", "worker", "standalone"]) {
        assert.equal(valueOf(`hail_up_to_date{profile="${profile}"}`), 1, profile);
        assert.equal(valueOf(`hail_deployments_total{profile="${profile}",result="success"}`), 1, profile);
      }
      const labels = new Set(samples.map((l) => /profile="([^"]*)"/.exec(l)?.[1]));
      assert.deepEqual([...labels].sort(), ["myapp", "standalone", "worker"]);

      // One lock per profile, STATE_DIR/<profile>.lock: a one-shot on any of them is refused.
      for (const t of all(f)) {
        const flags = t.jobUri !== undefined ? ["--job-uri", String(t.jobUri)] : ["--gate-job", String(t.gateJob), "--constituent", String(t.constituent)];
        const r = await w.hail([...flags, "--profile", t.profile, "--profiles-dir", f.profilesDir, "--state-dir", f.stateDir, "--oneshot", "--log-format", "json"]);
        assert.equal(r.code, 75, `${t.profile}: ${r.stderr}`);
        assert.ok(r.stderr.includes(path.join(f.stateDir, `${stateKey(path.join(f.profilesDir, t.profile))}.lock`)), `${t.profile}: the message names its lock file: ${r.stderr}`);
      }

      // The next poll (SIGUSR1) is a new round: a new gate build reaches both gate targets,
      // and the gate is still asked once for the two of them.
      const base = { project: "myproject", jobset: "metrics", finished: true, buildstatus: 0, jobsetevals: [f.gateId + 500] };
      w.hydra.addBuild({ ...base, id: f.gateId + 500, job: "release_gate", outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: [f.gateId + 501, f.gateId + 502] });
      w.hydra.addBuild({ ...base, id: f.gateId + 501, job: "myapp", outputs: { out: newer.myapp } });
      w.hydra.addBuild({ ...base, id: f.gateId + 502, job: "worker", outputs: { out: newer.worker } });
      w.hydra.resetRequests();
      process.kill(daemon.child.pid as number, "SIGUSR1");
      await waitUntil(async () => (await readMetrics()).includes(`hail_deployed_build_id{profile="worker"} ${f.gateId + 502}`), "the new gate build deployed");
      assert.equal(await f.profileTarget("myapp"), newer.myapp);
      assert.equal(await f.profileTarget("worker"), newer.worker);
      const requests = apiRequests();
      assert.equal(requests.get("/job/myproject/metrics/release_gate/latest-finished"), 1, "one latest-finished per poll for both gate targets");
      assert.equal(requests.get(`/build/${f.gateId + 500}`), 1);
      assert.equal(requests.get(`/build/${f.gateId + 500}/constituents`), 1);

      assert.ok(daemon.alive);
      assert.equal(await daemon.stop("SIGTERM"), 0);
    } finally {
      if (daemon.alive) await daemon.stop("SIGKILL");
    }
  });

  it("one profile named twice (by name and by path) is a configuration error, not a lock conflict", async () => {
    const f = await fleet("same-profile");
    const file = await f.write([f.targets.myapp, { ...f.targets.worker, profile: path.join(f.profilesDir, "myapp") }]);
    const r = await w.hail(["--config", file, "--oneshot"]);
    assert.equal(r.code, 64, r.stderr);
    assert.ok(r.stderr.includes(file), `names the file: ${r.stderr}`);
    assert.equal(await f.profileTarget("myapp"), null, "nothing deployed");
  });

  it("a constituent with buildstatus 6 fails only its own target: the others deploy, exit 75", async () => {
    const f = await fleet("failed-constituent", apps, { buildstatus: 6 });
    // the failing target first, so that stopping at it would leave the others undeployed
    const file = await f.write([f.targets.worker, f.targets.myapp, f.targets.standalone]);
    const r = await w.hail(["--config", file, "--oneshot"]);
    assert.equal(r.code, 75, `not ready is the most urgent code here: ${r.stderr}`);
    assert.equal(await f.profileTarget("worker"), null);
    assert.equal((await f.readState("worker"))?.lastError?.kind, "not_ready");
    assert.match(JSON.stringify((await f.readState("worker"))?.lastError), /buildstatus 6/);
    assert.equal(await f.profileTarget("myapp"), apps.myapp);
    assert.equal(await f.profileTarget("standalone"), apps.standalone);
    assert.match(r.stdout, /to myapp/);
    assert.match(r.stdout, /to standalone/);
  });

  it("an activation that exits 1 fails only its own target: the others deploy, exit 1", async () => {
    const f = await fleet("failed-activation", { ...apps, worker: brokenWorker });
    const file = await f.write([f.targets.worker, f.targets.myapp, f.targets.standalone]);
    const r = await w.hail(["--config", file, "--oneshot"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /failed to deploy build \d+ \S+ to worker/);
    assert.deepEqual((await f.readState("worker"))?.failed.map((x) => x.storePath), [brokenWorker]);
    assert.equal(await f.profileTarget("myapp"), apps.myapp);
    assert.equal(await f.profileTarget("standalone"), apps.standalone);
    assert.equal((await f.readState("myapp"))?.lastDeployed?.storePath, apps.myapp);
  });

  it("in a daemon too, a failing target does not stop the others, and the daemon keeps running", async () => {
    const f = await fleet("failed-daemon", { ...apps, worker: brokenWorker });
    const file = await f.write([f.targets.worker, f.targets.myapp, f.targets.standalone]);
    const daemon = HailDaemon.start(["--config", file, "--poll-period", "1h"], w.env);
    try {
      await waitUntil(async () => (await f.readState("standalone"))?.lastDeployed != null, "standalone deployed");
      assert.equal(await f.profileTarget("myapp"), apps.myapp);
      assert.equal(await f.profileTarget("standalone"), apps.standalone);
      assert.deepEqual((await f.readState("worker"))?.failed.map((x) => x.storePath), [brokenWorker]);
      assert.ok(daemon.alive, "the daemon survives a failing target");
      assert.equal(await daemon.stop("SIGTERM"), 0);
    } finally {
      if (daemon.alive) await daemon.stop("SIGKILL");
    }
  });

  it("plan --config --json: {targets: [...]}, one entry per target; it changes nothing", async () => {
    const f = await fleet("plan");
    const file = await f.write(all(f));
    const nixCallsBefore = (await w.nixCalls()).length;
    const r = await w.hail(["plan", "--config", file, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as { targets: { profile: { name: string; path: string }; action: string; buildId: number; gateBuildId: number | null; storePath: string; commands: string[] }[] };
    assert.deepEqual(plan.targets.map((t) => t.profile.name), ["myapp", "worker", "standalone"]);
    assert.deepEqual(plan.targets.map((t) => t.profile.path), ["myapp", "worker", "standalone"].map((p) => path.join(f.profilesDir, p)));
    assert.deepEqual(plan.targets.map((t) => t.action), ["deploy", "deploy", "deploy"]);
    assert.deepEqual(plan.targets.map((t) => t.buildId), [f.gateId + 1, f.gateId + 2, f.standaloneId]);
    assert.deepEqual(plan.targets.map((t) => t.gateBuildId), [f.gateId, f.gateId, null]);
    assert.deepEqual(plan.targets.map((t) => t.storePath), [apps.myapp, apps.worker, apps.standalone]);
    assert.ok(plan.targets.every((t) => t.commands.length === 3));
    assert.equal((await w.nixCalls()).length, nixCallsBefore, "plan ran no nix command");
    assert.equal(await f.profileTarget("myapp"), null);
    assert.deepEqual(await readdir(f.stateDir).catch(() => []), [], "plan wrote no state file and took no lock");

    const detailed = await w.hail(["plan", "--config", file, "--json", "--detailed-exitcode"]);
    assert.equal(detailed.code, 2, "deployments are pending");

    const deployed = await w.hail(["--config", file, "--oneshot"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const after = await w.hail(["plan", "--config", file, "--json", "--detailed-exitcode"]);
    assert.equal(after.code, 0, after.stderr);
    assert.deepEqual((JSON.parse(after.stdout) as typeof plan).targets.map((t) => t.action), ["none", "none", "none"]);

    // A target that cannot be resolved gets an error entry; the others are still planned.
    const withBad = await f.write([...all(f), { profile: "ghost", gateJob: f.gateUrl, constituent: "ghost" }]);
    const bad = await w.hail(["plan", "--config", withBad, "--json"]);
    assert.equal(bad.code, 65, bad.stderr);
    const badPlan = JSON.parse(bad.stdout) as { targets: Record<string, unknown>[] };
    assert.equal(badPlan.targets.length, 4);
    assert.deepEqual(badPlan.targets.slice(0, 3).map((t) => t.action), ["none", "none", "none"]);
    assert.deepEqual((badPlan.targets[3] as { profile: { name: string } }).profile.name, "ghost");
    assert.equal((badPlan.targets[3] as { error: { exitCode: number } }).error.exitCode, 65);
  });

  it("status --config --json: {targets: [...]}, one entry per target", async () => {
    const f = await fleet("status");
    const file = await f.write(all(f));
    const before = await w.hail(["status", "--config", file, "--json"]);
    assert.equal(before.code, 0, before.stderr);
    type Status = { targets: { profile: string; profilePath: string; currentPath: string | null; lastDeployed: { buildId: number } | null }[] };
    const empty = JSON.parse(before.stdout) as Status;
    assert.deepEqual(empty.targets.map((t) => [t.profile, t.currentPath]), [["myapp", null], ["worker", null], ["standalone", null]]);

    assert.equal((await w.hail(["--config", file, "--oneshot"])).code, 0);
    const r = await w.hail(["status", "--config", file, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const status = JSON.parse(r.stdout) as Status;
    assert.deepEqual(status.targets.map((t) => t.profile), ["myapp", "worker", "standalone"]);
    assert.deepEqual(status.targets.map((t) => t.profilePath), ["myapp", "worker", "standalone"].map((p) => path.join(f.profilesDir, p)));
    assert.deepEqual(status.targets.map((t) => t.currentPath), [apps.myapp, apps.worker, apps.standalone]);
    assert.deepEqual(status.targets.map((t) => t.lastDeployed?.buildId), [f.gateId + 1, f.gateId + 2, f.standaloneId]);

    const text = await w.hail(["status", "--config", file]);
    assert.equal(text.code, 0, text.stderr);
    for (const p of ["myapp", "worker", "standalone"]) assert.match(text.stdout, new RegExp(`^profile: +${p} `, "m"));
  });

  it("status --config: --state-dir on the command line overrides the file's", async () => {
    const f = await fleet("status-override");
    const file = await f.write(all(f));
    assert.equal((await w.hail(["--config", file, "--oneshot"])).code, 0);
    const elsewhere = path.join(w.lab.root, "status-override", "empty-state");
    const r = await w.hail(["status", "--config", file, "--state-dir", elsewhere, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const status = JSON.parse(r.stdout) as { targets: { lastDeployed: unknown }[] };
    assert.deepEqual(status.targets.map((t) => t.lastDeployed), [null, null, null], "the state dir given on the command line was read, not the file's");
  });

  it("a typo in the file: exit 64 naming the file and the key; nothing is asked of Hydra", async () => {
    const f = await fleet("typo");
    const cases: [Record<string, unknown>[], Record<string, unknown>, string[]][] = [
      [all(f), { pollPeriode: "5m" }, ['"pollPeriode"']],
      [[f.targets.myapp, { ...f.targets.worker, constituant: "worker" }], {}, ["targets[1]", '"constituant"']],
    ];
    for (const [targets, extra, fragments] of cases) {
      const file = await f.write(targets as FleetTarget[], extra);
      w.hydra.resetRequests();
      for (const args of [["--config", file, "--oneshot"], ["plan", "--config", file, "--json"], ["status", "--config", file, "--json"]]) {
        const r = await w.hail(args);
        assert.equal(r.code, 64, `${args.join(" ")}: ${r.stderr}`);
        for (const fragment of [file, ...fragments]) assert.ok(r.stderr.includes(fragment), `${args[0]}: ${JSON.stringify(fragment)} not in: ${r.stderr}`);
      }
      assert.deepEqual(w.hydra.requests, [], "a configuration error stops hail before any request");
      assert.equal(await f.profileTarget("myapp"), null);
    }
  });

  it("flags on the command line override the file: --log-level, --state-dir, --oneshot", async () => {
    const f = await fleet("override");
    const file = await f.write(all(f), { logLevel: "error", oneshot: false, pollPeriod: "1h" });
    const otherState = path.join(w.lab.root, "override", "cli-state");
    const levels = (r: HailRun) =>
      r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { _meta?: { logLevelName?: string } })._meta?.logLevelName);

    // --oneshot over the file's oneshot: false (a daemon would never exit by itself),
    // --log-level info over the file's error, --state-dir over the file's stateDir
    const r = await w.hail(["--config", file, "--oneshot", "--log-level", "info", "--state-dir", otherState]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(levels(r).includes("INFO"), `--log-level info over the file's error: ${r.stderr}`);
    assert.deepEqual((await readdir(otherState)).filter((n) => n.endsWith(".json")).sort(), ["myapp", "standalone", "worker"].map((p) => `${stateKey(path.join(f.profilesDir, p))}.json`));
    assert.deepEqual(await readdir(f.stateDir).catch(() => []), [], "the file's stateDir was not used");

    // Without the flag the file's logLevel: error holds (so the flag above made the difference)...
    const quiet = await w.hail(["--config", file, "--oneshot", "--state-dir", otherState]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.deepEqual(levels(quiet).filter((l) => l !== "ERROR"), [], `only errors at the file's level: ${quiet.stderr}`);

    // ... and --log-level debug shows an idle pass's debug lines.
    const debug = await w.hail(["--config", file, "--oneshot", "--state-dir", otherState, "--log-level", "debug"]);
    assert.equal(debug.code, 0, debug.stderr);
    assert.ok(levels(debug).includes("DEBUG"), `--log-level debug: ${debug.stderr}`);
  });

  it("a profile locked by another hail does not stop the other targets of a one-shot (exit 75)", async () => {
    const f = await fleet("locked");
    const file = await f.write(all(f));
    const other = HailDaemon.start(["--gate-job", f.gateUrl, "--constituent", "worker", "--profile", "worker", "--profiles-dir", f.profilesDir, "--state-dir", f.stateDir, "--poll-period", "1h", "--log-format", "json"], w.env);
    try {
      await waitUntil(async () => (await f.readState("worker"))?.lastDeployed != null, "the other hail to deploy worker");
      const r = await w.hail(["--config", file, "--oneshot"]);
      assert.equal(r.code, 75, r.stderr);
      assert.ok(r.stderr.includes(path.join(f.stateDir, `${stateKey(path.join(f.profilesDir, "worker"))}.lock`)), `names the held lock: ${r.stderr}`);
      assert.equal(await f.profileTarget("myapp"), apps.myapp, "myapp deployed although worker was locked");
      assert.equal(await f.profileTarget("standalone"), apps.standalone, "standalone deployed although worker was locked");
    } finally {
      await other.stop("SIGTERM");
    }
  });

  it("a damaged state file of one target does not stop the others; it is left as it is (exit 64)", async () => {
    const f = await fleet("damaged");
    const file = await f.write(all(f));
    await mkdir(f.stateDir, { recursive: true });
    const damaged = path.join(f.stateDir, `${stateKey(path.join(f.profilesDir, "worker"))}.json`);
    await writeFile(damaged, "{ not json");
    const r = await w.hail(["--config", file, "--oneshot"]);
    assert.equal(r.code, 64, r.stderr);
    assert.ok(r.stderr.includes(damaged), `names the damaged file: ${r.stderr}`);
    assert.equal(await readFile(damaged, "utf8"), "{ not json", "never overwritten");
    assert.equal(await f.profileTarget("worker"), null);
    assert.equal(await f.profileTarget("myapp"), apps.myapp, "myapp deployed although worker's state is damaged");
    assert.equal(await f.profileTarget("standalone"), apps.standalone, "standalone deployed although worker's state is damaged");
  });
});
