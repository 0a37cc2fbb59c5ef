import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RETIRED_SHOWN_MS, fleetMetrics } from "../../src/agent/fleet.js";
import { TargetAgent } from "../../src/agent/target-agent.js";
import type { PassDeps } from "../../src/deploy/pass.js";
import { EnvironmentError, HydraUnavailable, UsageError } from "../../src/errors.js";
import type { State } from "../../src/state/schema.js";
import { recordFailure, startAttempt } from "../../src/state/transitions.js";
import { AT, appBuild, deployedV2, fakeHydra, MemoryStore, NOW, OPTS, PROFILE, ref, STORE, TARGET, path, worldWith } from "../deploy/fake-world.js";

const V1 = path("v1");
const V2 = path("v2");
const V3 = path("v3");

/** An agent for TARGET over a profile with V1, V2 (current), hail's state saying it deployed V2; Hydra offers V3. */
function agentWorld(opts: { generations?: string[]; state?: State; managedBy?: string | null; activateTimeoutMs?: number } = {}) {
  const world = worldWith(...(opts.generations ?? [V1, V2]));
  const store = new MemoryStore(opts.state ?? deployedV2());
  const hydra = fakeHydra(appBuild(3, V3));
  const deps: PassDeps = { hydra: hydra.api, runner: world.nix, fs: world.fs, processes: world.processes, log: world.log, store, storeDir: STORE, now: () => NOW };
  const agent = new TargetAgent(deps, TARGET, { ...OPTS, activateTimeoutMs: opts.activateTimeoutMs ?? OPTS.activateTimeoutMs, rollout: null }, { managedBy: opts.managedBy ?? null, newRound: () => {} });
  return { ...world, store, hydra, agent };
}

/** A run died deploying V3 from generation 2. */
const diedDeployingV3 = () => startAttempt(deployedV2(), ref(3, V3), { generation: 2, link: "app-2-link", storePath: V2 }, AT);

describe("TargetAgent.start", () => {
  it("daemon, nothing to converge: re-activates the current generation with its build id", async () => {
    const w = agentWorld();
    await w.agent.start("daemon");
    assert.deepEqual(w.nix.calls, [`activate ${V2} build=2`]);
    assert.equal(w.agent.last, null);
  });

  it("stops an activation orphaned by a killed hail before it activates anything", async () => {
    // --activate-timeout 0: the orphan is stopped at once
    const w = agentWorld({ state: { ...deployedV2(), activation: { pgid: 4242, processStart: "777", bootId: "boot-1", startedAt: AT } }, activateTimeoutMs: 0 });
    w.processes.alive.set(4242, Infinity);
    w.processes.starts.set(4242, "777");
    const signalledBefore: number[] = [];
    w.nix.failActivation = () => {
      signalledBefore.push(w.processes.signals.length);
      return null;
    };
    await w.agent.start("daemon");
    assert.deepEqual(w.processes.signals, ["SIGTERM 4242"]);
    assert.deepEqual(signalledBefore, [1]);
    assert.equal(w.store.state.activation, null);
  });

  it("one-shot, nothing to converge: runs nothing", async () => {
    const w = agentWorld();
    await w.agent.start("oneshot");
    assert.deepEqual(w.nix.calls, []);
  });

  it("finishes an interrupted deployment and counts it as a success; the daemon does not activate twice", async () => {
    const w = agentWorld({ generations: [V1, V2, V3], state: diedDeployingV3() });
    await w.agent.start("daemon");
    assert.deepEqual(w.nix.calls, [`activate ${V3} build=3`]);
    assert.equal(w.store.state.metrics.deployments.success, 1);
    assert.equal(w.agent.healthy, true);
  });

  it("a failed convergence: rolled back, counted as a failed deployment, unhealthy until the next pass", async () => {
    const w = agentWorld({ generations: [V1, V2, V3], state: diedDeployingV3() });
    w.nix.failActivation = (p) => (p === V3 ? "exit 1" : null);
    await w.agent.start("daemon");
    assert.deepEqual(w.agent.last, { kind: "converge-failed" });
    assert.equal(w.agent.healthy, false);
    assert.deepEqual(w.agent.lastError(), { kind: "activation", message: "finishing an interrupted deployment failed" });
    assert.deepEqual(w.store.state.metrics.deployments, { success: 0, failed: 1 });
    assert.equal(w.store.state.metrics.rollbacks, 1);
    assert.equal(await w.fs.at(), V2);
  });
});

describe("TargetAgent.start of a profile hail may not run from", () => {
  it("daemon, a profile link planted to point at /tmp/evil: nothing run, counted as an environment error, unhealthy", async () => {
    const w = agentWorld();
    w.fs.dirs.add("/tmp").add("/tmp/evil");
    w.fs.links.set(PROFILE, "/tmp/evil");
    await w.agent.load();
    await w.agent.start("daemon");
    assert.deepEqual(w.nix.calls, [], "/tmp/evil/bin/activate never ran");
    assert.deepEqual(w.store.state.metrics.errors, { environment: 1 });
    assert.equal(w.agent.healthy, false);
    assert.match(w.agent.lastError()?.message ?? "", /refusing to run anything from profile \/profiles\/app: it points to \/tmp\/evil/);
  });

  it("an interrupted deployment over a planted link: the re-activation is refused and counted too", async () => {
    const w = agentWorld({ state: diedDeployingV3() });
    w.fs.dirs.add("/tmp").add("/tmp/evil");
    w.fs.links.set(PROFILE, "/tmp/evil");
    await w.agent.start("oneshot");
    assert.deepEqual(w.nix.calls, []);
    assert.deepEqual(w.store.state.metrics.errors, { environment: 1 });
  });

  it("an activation that runs and fails at start is logged, not counted (as before)", async () => {
    const w = agentWorld();
    w.nix.failActivation = () => "exit 1";
    await w.agent.start("daemon");
    assert.deepEqual(w.nix.calls, [`activate ${V2} build=2`]);
    assert.deepEqual(w.store.state.metrics.errors, {});
    assert.equal(w.agent.last, null);
  });
});

describe("TargetAgent.pass", () => {
  it("a deployment: the report, healthy, the metrics counted and saved, the deployed build id for scrapes", async () => {
    const w = agentWorld();
    await w.agent.load();
    const report = await w.agent.pass();
    assert.equal(report.kind, "deployed");
    assert.equal(w.agent.healthy, true);
    assert.equal(w.agent.lastError(), null);
    assert.equal(w.store.state.metrics.deployments.success, 1);
    assert.equal(w.store.state.metrics.upToDate, true);
    assert.equal(w.agent.metricsSnapshot()?.deployedBuildId, 3);
  });

  it("never throws: Hydra away is an error report, unhealthy, counted by kind", async () => {
    const w = agentWorld();
    w.hydra.answer = new HydraUnavailable("https://hydra.example", "connection refused");
    const report = await w.agent.pass();
    assert.equal(report.kind, "error");
    assert.equal(w.agent.healthy, false);
    assert.deepEqual(w.agent.lastError(), { kind: "unavailable", message: "Hydra unavailable at https://hydra.example: connection refused" });
    assert.deepEqual(w.store.state.metrics.errors, { unavailable: 1 });
  });

  it("an unexpected error (not a HailError) is reported as internal", async () => {
    const w = agentWorld();
    w.hydra.answer = new TypeError("x is undefined");
    const report = await w.agent.pass();
    assert.equal(report.kind === "error" && report.error.kind, "internal");
  });

  it("a failed deployment is unhealthy and names its error", async () => {
    const w = agentWorld();
    w.nix.failActivation = (p) => (p === V3 ? "exit 1" : null);
    const report = await w.agent.pass();
    assert.equal(report.kind, "failed");
    assert.equal(w.agent.healthy, false);
    assert.equal(w.agent.lastError()?.kind, "activation");
    assert.equal(w.store.state.metrics.rollbacks, 1);
  });

  it("skipping a known-bad build keeps build 2: degraded (healthy), not up to date, counted", async () => {
    const w = agentWorld({ state: recordFailure(deployedV2(), ref(3, V3), "exit 1", "activation", AT) });
    await w.agent.load();
    const report = await w.agent.pass();
    assert.equal(report.kind === "unchanged" && report.decision.kind, "skip");
    assert.equal(w.agent.healthy, true);
    const condition = w.agent.condition();
    assert.equal(condition.condition, "degraded");
    assert.match(condition.condition === "degraded" ? condition.reason : "", /^build 3 known-bad, keeping build 2 \(/);
    assert.equal(w.agent.metricsSnapshot()?.metrics.upToDate, false);
    await w.agent.pass();
    assert.equal(w.agent.metricsSnapshot()?.metrics.knownBadSkips, 2);
    assert.equal(w.store.state.metrics.knownBadSkips, 2, "kept in the state file: a one-shot's count goes on");
  });

  it("a profile stuck on the known-bad build (after --no-rollback) is not up to date", async () => {
    const w = agentWorld({ generations: [V1, V2, V3], state: recordFailure(deployedV2(), ref(3, V3), "exit 1", "activation", AT) });
    const report = await w.agent.pass();
    assert.equal(report.kind === "unchanged" && report.currentPath, V3);
    assert.equal(report.kind === "unchanged" && report.decision.kind, "skip");
    assert.equal(w.agent.metricsSnapshot()?.metrics.upToDate, false);
    assert.equal(w.agent.healthy, false, "the known-bad build runs: failing");
  });

  it("an idle up-to-date pass writes the state file only when a counter changes", async () => {
    const w = agentWorld();
    w.hydra.answer = appBuild(2, V2);
    await w.agent.load();
    await w.agent.pass();
    const writes = w.store.writes;
    assert.equal(w.store.state.metrics.upToDate, true);
    const report = await w.agent.pass();
    assert.equal(report.kind === "unchanged" && report.decision.kind, "up-to-date");
    assert.equal(w.agent.healthy, true);
    assert.equal(w.store.writes, writes, "the second idle pass changed only timestamps");
    assert.equal(w.agent.metricsSnapshot()?.metrics.lastCheckAt, NOW.toISOString());
  });
});

describe("TargetAgent.load", () => {
  it("refuses a profile that is a directory or a regular file (usage error)", async () => {
    for (const [make, what] of [
      [(w: ReturnType<typeof agentWorld>) => w.fs.dirs.add(PROFILE), "a directory"],
      [(w: ReturnType<typeof agentWorld>) => w.fs.files.add(PROFILE), "a regular file"],
    ] as const) {
      const w = agentWorld({ generations: [] });
      make(w);
      await assert.rejects(w.agent.load(), (err: unknown) => err instanceof UsageError && err.message.includes(`--profile ${PROFILE} is ${what}`));
    }
  });

  it("refuses a profile whose directory others can write, or someone else owns (73)", async () => {
    for (const [owner, says] of [
      [{ uid: 0, mode: 0o777 }, /directory \/profiles: it is writable by group and others \(mode 0777\)/],
      [{ uid: 65534, mode: 0o755 }, /directory \/profiles: it is owned by uid 65534/],
    ] as const) {
      const w = agentWorld();
      w.fs.owners.set("/profiles", owner);
      await assert.rejects(w.agent.load(), (err: unknown) => err instanceof EnvironmentError && err.exitCode === 73 && says.test(err.message));
    }
  });

  it("accepts a profile that does not exist yet", async () => {
    const w = agentWorld({ generations: [] });
    await w.agent.load();
    assert.equal(w.agent.metricsSnapshot()?.deployedBuildId, null);
  });

  it("claims the profile for its config file, and seeds the cache so an unchanged Hydra costs one request", async () => {
    const w = agentWorld({ managedBy: "/etc/hail/targets.json" });
    w.hydra.answer = appBuild(2, V2);
    await w.agent.load();
    assert.equal(w.store.state.managedBy, "/etc/hail/targets.json");
    assert.equal(w.agent.metricsSnapshot()?.deployedBuildId, 2);
    await w.agent.pass();
    assert.deepEqual(w.hydra.calls, ["latest latest"]);
  });
});

describe("fleetMetrics and retired targets", () => {
  it("shows a target retired less than a week ago, and no longer after", async () => {
    const w = agentWorld();
    await w.agent.load();
    w.agent.fleet.retired = [{ profile: "gone", retiredAt: "2026-03-01T00:00:00.000Z" }];
    const retiredAt = Date.parse("2026-03-01T00:00:00.000Z");
    const shown = fleetMetrics([w.agent], undefined, retiredAt + RETIRED_SHOWN_MS - 1);
    assert.match(shown, /^hail_target_retired_timestamp_seconds\{profile="gone"\} 1772323200$/m);
    assert.equal(RETIRED_SHOWN_MS, 7 * 24 * 3600_000);
    assert.doesNotMatch(fleetMetrics([w.agent], undefined, retiredAt + RETIRED_SHOWN_MS), /hail_target_retired_timestamp_seconds/);
  });
});
