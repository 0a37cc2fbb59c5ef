import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeployOptions } from "../../src/deploy/deploy.js";
import { activateCurrent, convergeInterrupted } from "../../src/deploy/converge.js";
import { emptyState } from "../../src/state/schema.js";
import type { State } from "../../src/state/schema.js";
import { recordInterrupted, recordSuccess, startAttempt } from "../../src/state/transitions.js";
import { AT, deployedV2, MemoryStore, NOW, OPTS, PROFILE, ref, TARGET, path, worldWith } from "./fake-world.js";

const V1 = path("v1");
const V2 = path("v2");
const V3 = path("v3");
/** V2 deployed by hail; then a run started deploying V3 (build 3) from generation 2 and died. */
function stateDiedDeployingV3(): State {
  return startAttempt(deployedV2(), ref(3, V3), { generation: 2, link: "app-2-link", storePath: V2 }, AT);
}

function converge(world: ReturnType<typeof worldWith>, state: State, opts: Partial<DeployOptions> = {}) {
  const store = new MemoryStore(state);
  const deps = { ...world.deployDeps, store, now: () => NOW };
  return { store, result: convergeInterrupted(deps, TARGET, { ...OPTS, ...opts }) };
}

const HOOKS = { onSuccess: ["/bin/on-success"], onFailure: ["/bin/on-failure"] };

describe("convergeInterrupted", () => {
  it("nothing to do without an open attempt: no command runs, nothing is written", async () => {
    const world = worldWith(V1, V2);
    const state = recordSuccess(stateDiedDeployingV3(), ref(3, V3), AT);
    const { store, result } = converge(world, state);
    assert.deepEqual(await result, { kind: "nothing-to-do" });
    assert.deepEqual(world.nix.calls, []);
    assert.equal(store.writes, 0);
  });

  it("an attempt already ended as interrupted is not converged again", async () => {
    const world = worldWith(V1, V2);
    const { store, result } = converge(world, recordInterrupted(stateDiedDeployingV3(), AT));
    assert.deepEqual(await result, { kind: "nothing-to-do" });
    assert.deepEqual(world.nix.calls, []);
    assert.equal(store.writes, 0);
  });

  it("the profile is at the attempted build → the deployment is finished (completed), recorded, hooked and pruned", async () => {
    const world = worldWith(V1, V2, V3);
    const { store, result } = converge(world, stateDiedDeployingV3(), { hooks: HOOKS, keepGenerations: 1 });
    assert.deepEqual(await result, { kind: "completed" });
    assert.deepEqual(world.nix.calls, [
      `activate ${V3} build=3`,
      "on-success hook /bin/on-success",
      // the current generation (3) and the rollback target (2) stay
      `nix-env --profile ${PROFILE} --delete-generations 1`,
    ]);
    assert.equal(store.state.lastDeployed?.storePath, V3);
    assert.equal(store.state.lastAttempt?.result, "success");
    assert.notEqual(store.state.lastAttempt?.endedAt, null);
  });

  it("the profile is at the attempted build and its activation fails → rolled back to the generation before (failed)", async () => {
    const world = worldWith(V1, V2, V3);
    world.nix.failActivation = (p) => (p === V3 ? "exit 1" : null);
    const { store, result } = converge(world, stateDiedDeployingV3(), { hooks: HOOKS });
    assert.deepEqual(await result, { kind: "failed" });
    assert.deepEqual(world.nix.calls, [
      `activate ${V3} build=3`,
      `nix-env --profile ${PROFILE} --switch-generation 2`,
      `activate ${V2} build=2`,
      "on-failure hook /bin/on-failure",
    ]);
    assert.equal(await world.fs.at(), V2);
    assert.equal(store.state.lastAttempt?.result, "failed");
    assert.deepEqual(
      store.state.failed.map((f) => f.storePath),
      [V3],
    );
    assert.equal(store.state.lastDeployed?.storePath, V2);
  });

  it("a state file from before previousLink: the rollback goes to the recorded generation's link", async () => {
    const world = worldWith(V1, V2, V3);
    world.nix.failActivation = (p) => (p === V3 ? "exit 1" : null);
    const old = stateDiedDeployingV3();
    const state = { ...old, lastAttempt: old.lastAttempt && { ...old.lastAttempt, previousLink: null, previousStorePath: null } };
    const { result } = converge(world, state);
    assert.deepEqual(await result, { kind: "failed" });
    assert.ok(world.nix.calls.includes(`nix-env --profile ${PROFILE} --switch-generation 2`));
    assert.equal(await world.fs.at(), V2);
  });

  it("the profile was never switched → the current generation is re-activated and the attempt marked interrupted", async () => {
    const world = worldWith(V1, V2);
    const { store, result } = converge(world, stateDiedDeployingV3(), { hooks: HOOKS });
    assert.deepEqual(await result, { kind: "re-activated", error: null });
    assert.deepEqual(world.nix.calls, [`activate ${V2} build=2`], "no hook: there was no deployment");
    assert.equal(store.state.lastAttempt?.result, "interrupted");
    assert.equal(store.state.lastAttempt?.error, "hail stopped before the profile was switched");
    assert.deepEqual(store.state.failed, [], "an interrupted attempt is retried, not marked failed");
    assert.equal(await world.fs.at(), V2);
  });

  it("never switched and no profile at all → nothing to activate, the attempt is marked interrupted", async () => {
    const world = worldWith();
    const { store, result } = converge(world, stateDiedDeployingV3());
    assert.deepEqual(await result, { kind: "re-activated", error: null });
    assert.deepEqual(world.nix.calls, []);
    assert.equal(store.state.lastAttempt?.result, "interrupted");
  });

  it("never switched and the re-activation fails → still re-activated (logged), the attempt marked interrupted", async () => {
    const world = worldWith(V1, V2);
    world.nix.failActivation = () => "exit 9";
    const { store, result } = converge(world, stateDiedDeployingV3());
    const outcome = await result;
    assert.equal(outcome.kind === "re-activated" && outcome.error?.kind, "activation");
    assert.equal(store.state.lastAttempt?.result, "interrupted");
    assert.ok(world.log.lines.some((l) => l.level === "error" && /activation of the current generation failed: activation failed \(exit 9\)/.test(l.msg)));
  });
});

describe("activateCurrent", () => {
  it("activates the current generation with the build id hail deployed it as", async () => {
    const world = worldWith(V1, V2);
    const store = new MemoryStore(recordSuccess(emptyState("app", PROFILE), ref(2, V2), AT));
    assert.equal(await activateCurrent({ ...world.deployDeps, store }, TARGET, V2, 1000), null);
    assert.deepEqual(world.nix.calls, [`activate ${V2} build=2`]);
  });

  it("returns a failed activation's error, and logs it", async () => {
    const world = worldWith(V1);
    world.nix.failActivation = () => "exit 1";
    const store = new MemoryStore();
    assert.equal((await activateCurrent({ ...world.deployDeps, store }, TARGET, V1, 1000))?.kind, "activation");
    assert.deepEqual(world.nix.calls, [`activate ${V1} build=`]);
    assert.equal(world.log.lines.filter((l) => l.level === "error").length, 1);
  });
});

describe("activateCurrent of a profile hail may not run from", () => {
  it("a profile link planted to point outside the store: refused (73, environment), nothing run", async () => {
    const world = worldWith(V1);
    world.fs.links.set(PROFILE, "/tmp/evil");
    const error = await activateCurrent({ ...world.deployDeps, store: new MemoryStore() }, TARGET, "/tmp/evil", 1000);
    assert.equal(error?.exitCode, 73);
    assert.equal(error?.kind, "environment");
    assert.match(error?.message ?? "", /profile \/profiles\/app: it points to \/tmp\/evil, which is not a store path under \/nix\/store/);
    assert.deepEqual(world.nix.calls, [], "nothing was run");
  });

  it("a profile whose directory others can write: refused, nothing run", async () => {
    const world = worldWith(V1);
    world.fs.owners.set("/profiles", { uid: 0, mode: 0o777 });
    const error = await activateCurrent({ ...world.deployDeps, store: new MemoryStore() }, TARGET, V1, 1000);
    assert.equal(error?.exitCode, 73);
    assert.match(error?.message ?? "", /directory \/profiles: it is writable by group and others \(mode 0777\)/);
    assert.deepEqual(world.nix.calls, []);
  });
});
