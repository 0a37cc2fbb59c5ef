import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PassDeps, PassOptions, PassOutcome, TargetSession } from "../../src/deploy/pass.js";
import { runPass } from "../../src/deploy/pass.js";
import { CacheUnavailable, HydraUnavailable, InvalidResponse, NotReady } from "../../src/errors.js";
import { InsufficientSpace } from "../../src/nix/disk.js";
import type { State } from "../../src/state/schema.js";
import { recordError, recordFailure, setHold } from "../../src/state/transitions.js";
import { AT, appBuild, deployedV2, fakeHydra, MemoryStore, NOW, OPTS, PROFILE, ref, STORE, TARGET, path, worldWith } from "./fake-world.js";

const V1 = path("v1");
const V2 = path("v2");
const V3 = path("v3");

/** A profile with generations V1, V2 (current) unless told otherwise; Hydra offers build 3 (V3). */
function passWorld(opts: { generations?: string[]; state?: State; offer?: Parameters<typeof fakeHydra>[0] } = {}) {
  const world = worldWith(...(opts.generations ?? [V1, V2]));
  const store = new MemoryStore(opts.state ?? deployedV2());
  const hydra = fakeHydra(opts.offer ?? appBuild(3, V3));
  const deps: PassDeps = { hydra: hydra.api, runner: world.nix, fs: world.fs, processes: world.processes, log: world.log, store, storeDir: STORE, now: () => NOW };
  const session: TargetSession = { cache: null };
  const pass = (o: Partial<PassOptions> = {}): Promise<PassOutcome> => runPass(deps, TARGET, session, { ...OPTS, rollout: null, ...o });
  return { ...world, store, hydra, session, pass };
}

const REALISE = `nix-store --realise ${V3} --max-jobs 0`;
const SET = `nix-env --profile ${PROFILE} --set ${V3}`;

describe("runPass: deploying", () => {
  it("a new build: realise, switch, activate; the attempt and the deployment are in the state", async () => {
    const w = passWorld();
    const outcome = await w.pass();
    assert.equal(outcome.kind, "deployed");
    assert.equal(outcome.kind === "deployed" && outcome.hookFailures, 0);
    assert.deepEqual(w.hydra.calls, ["latest latest", "getBuild 3"]);
    assert.deepEqual(w.nix.calls, [REALISE, SET, `activate ${V3} build=3`]);
    assert.equal(await w.fs.at(), V3);
    assert.deepEqual(w.store.state.lastDeployed, { ...ref(3, V3), at: NOW.toISOString() });
    assert.equal(w.store.state.lastAttempt?.result, "success");
    assert.equal(w.store.state.lastAttempt?.previousGeneration, 2);
    assert.equal(w.store.state.lastAttempt?.previousStorePath, V2);
  });

  it("runs the on-success hook and counts a hook that fails, without changing the result", async () => {
    const w = passWorld();
    w.nix.failActivation = (_p, what) => (what === "on-success hook" ? "exit 2" : null);
    const outcome = await w.pass({ hooks: { onSuccess: ["/bin/notify"], onFailure: null } });
    assert.equal(outcome.kind, "deployed");
    assert.equal(outcome.kind === "deployed" && outcome.hookFailures, 1);
    assert.equal(w.nix.calls.at(-1), "on-success hook /bin/notify");
  });

  it("prunes old generations after a success (--keep-generations), keeping the rollback target", async () => {
    const w = passWorld({ generations: [path("v0"), V1, V2] });
    await w.pass({ keepGenerations: 1 });
    assert.equal(w.nix.calls.at(-1), `nix-env --profile ${PROFILE} --delete-generations 1 2`);
    assert.deepEqual(w.fs.generations(), [3, 4]);
  });

  it("a failed activation: rolled back, the path marked failed, the on-failure hook told", async () => {
    const w = passWorld();
    w.nix.failActivation = (p, what) => (p === V3 && what === "activation" ? "exit 1" : null);
    const outcome = await w.pass({ hooks: { onSuccess: null, onFailure: ["/bin/page"] } });
    assert.equal(outcome.kind, "failed");
    assert.equal(outcome.kind === "failed" && outcome.rolledBack, true);
    assert.deepEqual(w.nix.calls, [REALISE, SET, `activate ${V3} build=3`, `nix-env --profile ${PROFILE} --switch-generation 2`, `activate ${V2} build=2`, "on-failure hook /bin/page"]);
    assert.equal(await w.fs.at(), V2);
    assert.deepEqual(w.store.state.failed.map((f) => [f.storePath, f.buildId]), [[V3, 3]]);
    assert.equal(w.store.state.lastAttempt?.result, "failed");
    assert.equal(w.store.state.lastError?.kind, "activation");
    assert.equal(w.store.state.lastDeployed?.storePath, V2);
  });

  it("a transient error (the cache unreachable) is thrown; the attempt ends interrupted, nothing is marked failed", async () => {
    const w = passWorld();
    w.nix.failNix = (cmd) => (cmd.args[0] === "--realise" ? new CacheUnavailable("binary cache unavailable: https://cache.example") : null);
    await assert.rejects(w.pass(), CacheUnavailable);
    assert.deepEqual(w.nix.calls, [REALISE]);
    assert.equal(w.store.state.lastAttempt?.result, "interrupted");
    assert.deepEqual(w.store.state.failed, []);
    assert.equal(w.store.state.lastError?.kind, "unavailable");
  });

  it("--min-free: too little space is thrown and recorded before any attempt starts", async () => {
    const w = passWorld();
    w.nix.dryRunOutput = "these 2 paths will be fetched (1.00 MiB download, 100.00 MiB unpacked):";
    w.fs.free = 50 * 1024 * 1024;
    await assert.rejects(w.pass({ minFreeBytes: 10 * 1024 * 1024 }), InsufficientSpace);
    assert.deepEqual(w.nix.calls, [`nix-store --realise --dry-run ${V3}`]);
    assert.equal(w.store.state.lastAttempt?.buildId, 2, "no attempt of build 3 started");
    assert.equal(w.store.state.lastError?.kind, new InsufficientSpace("x").kind);
  });

  it("a hold given while the build was realised: not switched, the attempt ends interrupted", async () => {
    const w = passWorld();
    w.nix.failNix = (cmd) => {
      if (cmd.args[0] === "--realise") w.store.state = setHold(w.store.state, "incident 42", null, AT);
      return null;
    };
    const outcome = await w.pass();
    assert.equal(outcome.kind, "unchanged");
    assert.equal(outcome.kind === "unchanged" && outcome.decision.kind, "held");
    assert.deepEqual(w.nix.calls, [REALISE]);
    assert.equal(await w.fs.at(), V2);
    assert.equal(w.store.state.lastAttempt?.result, "interrupted");
    assert.match(w.store.state.lastAttempt?.error ?? "", /incident 42/);
  });
});

describe("runPass: not deploying", () => {
  it("up to date: no command, no state write", async () => {
    const w = passWorld({ offer: appBuild(2, V2) });
    const outcome = await w.pass();
    assert.deepEqual(outcome, {
      kind: "unchanged",
      resolution: { gateBuildId: null, buildId: 2, job: "app", evals: [19022], storePath: V2, stoptime: 1_700_000_200 },
      decision: { kind: "up-to-date" },
      currentPath: V2,
    });
    assert.deepEqual(w.nix.calls, []);
    assert.equal(w.store.writes, 0);
  });

  it("up to date clears the error of an earlier pass", async () => {
    const w = passWorld({ offer: appBuild(2, V2), state: recordError(deployedV2(), "unavailable", "Hydra was away", AT) });
    await w.pass();
    assert.equal(w.store.state.lastError, null);
    assert.equal(w.store.writes, 1);
  });

  it("known bad: a path that failed before is skipped, and its error kept", async () => {
    const failed = recordFailure(deployedV2(), ref(3, V3), "activation failed", "activation", AT);
    const w = passWorld({ state: failed });
    const outcome = await w.pass();
    assert.equal(outcome.kind === "unchanged" && outcome.decision.kind === "skip" && outcome.decision.cause, "failed-before");
    assert.deepEqual(w.nix.calls, []);
    assert.equal(w.store.writes, 0);
    assert.equal(w.store.state.lastError?.kind, "activation");
  });

  it("held: nothing runs", async () => {
    const w = passWorld({ state: setHold(deployedV2(), "freeze", null, AT) });
    const outcome = await w.pass();
    assert.equal(outcome.kind === "unchanged" && outcome.decision.kind, "held");
    assert.deepEqual(w.nix.calls, []);
    assert.equal(await w.fs.at(), V2);
  });

  it("changed by hand: the profile moved away from what hail deployed, Hydra offers the same build", async () => {
    const w = passWorld({ generations: [V1, V2, V1], offer: appBuild(2, V2) });
    const outcome = await w.pass();
    assert.equal(outcome.kind === "unchanged" && outcome.decision.kind === "skip" && outcome.decision.cause, "changed-by-hand");
    assert.deepEqual(w.nix.calls, []);
  });

  it("an older build than the one deployed: stays, and warns once per offered build", async () => {
    const w = passWorld({ offer: appBuild(1, V1) });
    const first = await w.pass();
    assert.equal(first.kind === "unchanged" && first.decision.kind, "stay");
    w.session.cache = null;
    await w.pass();
    assert.deepEqual(
      w.log.lines.filter((l) => l.msg.startsWith("not deploying")).map((l) => l.level),
      ["warn", "debug"],
    );
    assert.deepEqual(w.nix.calls, []);
  });
});

describe("runPass: Hydra's answers that stop a pass", () => {
  it("refusal: an unsafe output path is thrown as InvalidResponse and recorded; nothing runs; the refusal is cached", async () => {
    const w = passWorld({ offer: appBuild(3, "/nix/store/../etc/passwd") });
    await assert.rejects(w.pass(), InvalidResponse);
    assert.equal(w.store.state.lastError?.kind, "invalid_response");
    assert.deepEqual(w.nix.calls, []);
    await assert.rejects(w.pass(), InvalidResponse);
    assert.deepEqual(w.hydra.calls, ["latest latest", "getBuild 3", "latest latest"], "the same build is not fetched again");
  });

  it("unavailable: Hydra's error is thrown and recorded; nothing runs", async () => {
    const w = passWorld({ offer: new HydraUnavailable("https://hydra.example", "HTTP 502") });
    await assert.rejects(w.pass(), HydraUnavailable);
    assert.deepEqual(w.store.state.lastError, { kind: "unavailable", message: "Hydra unavailable at https://hydra.example: HTTP 502", at: NOW.toISOString() });
    assert.deepEqual(w.nix.calls, []);
    assert.equal(await w.fs.at(), V2);
  });

  it("not ready: a build that failed on Hydra is not deployed", async () => {
    const w = passWorld({ offer: appBuild(3, V3, { buildstatus: 1 }) });
    await assert.rejects(w.pass(), NotReady);
    assert.equal(w.store.state.lastError?.kind, "not_ready");
    assert.deepEqual(w.nix.calls, []);
  });
});
