import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeployOptions, DeployResult } from "../../src/deploy/deploy.js";
import { checkDiskSpace, deploy, pruneGenerations } from "../../src/deploy/deploy.js";
import { CacheUnavailable, DeploymentFailed, NixCommandFailed } from "../../src/errors.js";
import { InsufficientSpace } from "../../src/nix/disk.js";
import { profileBefore } from "../../src/profile/links.js";
import { OPTS, PROFILE, STORE, TARGET, path, worldWith } from "./fake-world.js";

const V1 = path("v1");
const V2 = path("v2");
const V3 = path("v3");

/** Deploys build 3 (V3) onto a profile with generations V1, V2 (current), as a pass does. */
async function deployV3(world: ReturnType<typeof worldWith>, opts: Partial<DeployOptions> = {}, extra: object = {}): Promise<DeployResult> {
  const previous = await profileBefore(PROFILE, STORE, world.fs);
  const buildIdOf = async (p: string) => (p === V2 ? 2 : p === V1 ? 1 : null);
  return deploy({ ...world.deployDeps, buildIdOf, ...extra }, TARGET, { buildId: 3, storePath: V3 }, previous, { ...OPTS, ...opts });
}

const REALISE = `nix-store --realise ${V3} --max-jobs 0`;
const SET = `nix-env --profile ${PROFILE} --set ${V3}`;
const SWITCH_BACK = `nix-env --profile ${PROFILE} --switch-generation 2`;

function failedWith(result: DeployResult): Extract<DeployResult, { kind: "failed" }> {
  assert.equal(result.kind, "failed", `expected a failure, got ${JSON.stringify(result)}`);
  return result as Extract<DeployResult, { kind: "failed" }>;
}

describe("deploy", () => {
  it("realises, switches, activates: the profile is at the new generation", async () => {
    const world = worldWith(V1, V2);
    assert.deepEqual(await deployV3(world), { kind: "deployed" });
    assert.deepEqual(world.nix.calls, [REALISE, SET, `activate ${V3} build=3`]);
    assert.equal(await world.fs.at(), V3);
    assert.deepEqual(world.fs.generations(), [1, 2, 3]);
  });

  it("creates the parent of a nested profile before nix-env runs", async () => {
    const world = worldWith();
    world.fs.dirs.delete("/profiles");
    assert.deepEqual(await deployV3(world), { kind: "deployed" });
    assert.ok(world.fs.dirs.has("/profiles"));
    assert.equal(await world.fs.at(), V3);
  });

  it("runs the health check after the activation, with the build in its environment", async () => {
    const world = worldWith(V1, V2);
    await deployV3(world, { healthCheck: ["/bin/check", "--quick"] });
    assert.deepEqual(world.nix.calls, [REALISE, SET, `activate ${V3} build=3`, "health check /bin/check --quick"]);
  });

  it("stops before the switch when a hold was given meanwhile: the profile is not touched", async () => {
    const world = worldWith(V1, V2);
    const result = await deployV3(world, {}, { heldNow: async () => "profile is held: freeze" });
    assert.deepEqual(result, { kind: "held", reason: "profile is held: freeze" });
    assert.deepEqual(world.nix.calls, [REALISE]);
    assert.equal(await world.fs.at(), V2);
  });
});

describe("deploy: rollback", () => {
  it("activation fails → back to the previous generation by number, re-activated with its build id", async () => {
    const world = worldWith(V1, V2);
    world.nix.failActivation = (p) => (p === V3 ? "exit 1" : null);
    const result = failedWith(await deployV3(world));
    assert.equal(result.rolledBack, true);
    assert.equal(result.error.kind, "activation");
    assert.match(result.error.message, /activation failed \(exit 1\)/);
    assert.deepEqual(world.nix.calls, [REALISE, SET, `activate ${V3} build=3`, SWITCH_BACK, `activate ${V2} build=2`]);
    assert.equal(await world.fs.at(), V2);
  });

  it("a failed health check rolls back too", async () => {
    const world = worldWith(V1, V2);
    world.nix.failActivation = (_p, what) => (what === "health check" ? "exit 3" : null);
    const result = failedWith(await deployV3(world, { healthCheck: ["/bin/check"] }));
    assert.equal(result.rolledBack, true);
    assert.deepEqual(world.nix.calls.slice(-2), [SWITCH_BACK, `activate ${V2} build=2`]);
    assert.equal(await world.fs.at(), V2);
  });

  it("Hydra not confirmed in time (--confirm-timeout) rolls back", async () => {
    const world = worldWith(V1, V2);
    const confirmReachable = async () => {
      throw new NixCommandFailed("Hydra did not answer within 60s");
    };
    const result = failedWith(await deployV3(world, { confirmTimeoutMs: 60_000 }, { confirmReachable }));
    assert.equal(result.rolledBack, true);
    assert.match(result.error.message, /did not answer/);
    assert.equal(await world.fs.at(), V2);
  });

  it("rollback's switch fails → not rolled back; the error names both failures and where the profile is", async () => {
    const world = worldWith(V1, V2);
    world.nix.failActivation = (p) => (p === V3 ? "exit 1" : null);
    world.nix.failNix = (cmd) => (cmd.args.includes("--switch-generation") ? new NixCommandFailed("nix-env: cannot lock profile") : null);
    const result = failedWith(await deployV3(world));
    assert.equal(result.rolledBack, false);
    assert.ok(result.error instanceof DeploymentFailed);
    assert.equal(result.error.kind, "activation", "the kind of the first failure");
    assert.match(result.error.message, /^activation failed \(exit 1\); rollback failed: nix-env: cannot lock profile; the profile is at \/nix\/store\/\S+-app-v3: repair it by hand/);
    assert.deepEqual(world.nix.calls, [REALISE, SET, `activate ${V3} build=3`, SWITCH_BACK]);
    assert.equal(await world.fs.at(), V3);
  });

  it("rollback's re-activation fails → not rolled back; the profile is back at the previous generation", async () => {
    const world = worldWith(V1, V2);
    world.nix.failActivation = () => "exit 1";
    const result = failedWith(await deployV3(world));
    assert.equal(result.rolledBack, false);
    assert.match(result.error.message, new RegExp(`rollback failed: re-activating ${V2} failed: activation failed \\(exit 1\\); the profile is at ${V2}`));
    assert.deepEqual(world.nix.calls, [REALISE, SET, `activate ${V3} build=3`, SWITCH_BACK, `activate ${V2} build=2`]);
    assert.equal(await world.fs.at(), V2);
  });

  it("no previous generation (no profile before) → the new profile and its generation link are removed", async () => {
    const world = worldWith();
    world.nix.failActivation = () => "exit 1";
    const result = failedWith(await deployV3(world));
    assert.equal(result.rolledBack, true);
    assert.deepEqual(world.nix.calls, [REALISE, SET, `activate ${V3} build=3`]);
    assert.equal(await world.fs.at(), null);
    assert.deepEqual(await world.fs.readdir("/profiles"), []);
  });

  it("--no-rollback → failed, the profile stays at the failed build", async () => {
    const world = worldWith(V1, V2);
    world.nix.failActivation = (p) => (p === V3 ? "exit 1" : null);
    const result = failedWith(await deployV3(world, { rollback: false }));
    assert.equal(result.rolledBack, false);
    assert.deepEqual(world.nix.calls, [REALISE, SET, `activate ${V3} build=3`]);
    assert.equal(await world.fs.at(), V3);
  });

  it("a plain-link profile (no generations) → the same link put back in one rename, then re-activated", async () => {
    const world = worldWith();
    world.fs.links.set(PROFILE, V1);
    world.nix.failActivation = (p) => (p === V3 ? "exit 1" : null);
    const result = failedWith(await deployV3(world));
    assert.equal(result.rolledBack, true);
    assert.deepEqual(world.nix.calls, [REALISE, SET, `activate ${V3} build=3`, `activate ${V1} build=1`]);
    assert.equal(await world.fs.readlink(PROFILE), V1);
    assert.deepEqual((await world.fs.readdir("/profiles")).filter((f) => f.includes("rollback")), [], "no temporary link left");
  });

  it("a plain link that cannot be put back → not rolled back, the error says where the profile is", async () => {
    const world = worldWith();
    world.fs.links.set(PROFILE, V1);
    world.nix.failActivation = (p) => (p === V3 ? "exit 1" : null);
    world.fs.beforeChange = (op) => {
      if (op === "rename") throw Object.assign(new Error("EROFS: read-only file system"), { code: "EROFS" });
    };
    const result = failedWith(await deployV3(world));
    assert.equal(result.rolledBack, false);
    assert.match(result.error.message, new RegExp(`rollback failed: EROFS: read-only file system; the profile is at ${V3}`));
  });

  it("realise fails → the profile never moved: nothing is rolled back or re-activated", async () => {
    const world = worldWith(V1, V2);
    world.nix.failNix = (cmd) => (cmd.args[0] === "--realise" ? new NixCommandFailed("path is not valid") : null);
    const result = failedWith(await deployV3(world));
    assert.equal(result.rolledBack, false);
    assert.equal(result.error.kind, "nix");
    assert.deepEqual(world.nix.calls, [REALISE]);
    assert.equal(await world.fs.at(), V2);
  });

  it("a transient error (the cache unreachable) is returned as it is, the profile untouched", async () => {
    const world = worldWith(V1, V2);
    world.nix.failNix = (cmd) => (cmd.args[0] === "--realise" ? new CacheUnavailable("binary cache unavailable") : null);
    const result = failedWith(await deployV3(world));
    assert.ok(result.error instanceof CacheUnavailable);
    assert.equal(result.rolledBack, false);
  });
});

describe("pruneGenerations and checkDiskSpace", () => {
  it("--keep-generations deletes the oldest, never the current one or the rollback target", async () => {
    const world = worldWith(V1, V2, V3, path("v4"), path("v5"));
    await world.nix.runNix({ file: "nix-env", args: ["--profile", PROFILE, "--switch-generation", "4"] });
    world.nix.calls.length = 0;
    await pruneGenerations(world.deployDeps, TARGET, 2, 1);
    assert.deepEqual(world.nix.calls, [`nix-env --profile ${PROFILE} --delete-generations 2 3`]);
    assert.deepEqual(world.fs.generations(), [1, 4, 5]);
  });

  it("keeps all generations without --keep-generations", async () => {
    const world = worldWith(V1, V2, V3);
    await pruneGenerations(world.deployDeps, TARGET, null, null);
    assert.deepEqual(world.nix.calls, []);
  });

  it("refuses to realise when the store would keep less than --min-free", async () => {
    const world = worldWith(V1);
    world.nix.dryRunOutput = "these 3 paths will be fetched (10.00 MiB download, 50.00 MiB unpacked):";
    world.fs.free = 60 * 1024 * 1024;
    await assert.rejects(checkDiskSpace(world.deployDeps, V3, 20 * 1024 * 1024), InsufficientSpace);
    world.fs.free = 80 * 1024 * 1024;
    await checkDiskSpace(world.deployDeps, V3, 20 * 1024 * 1024);
    assert.equal(world.nix.calls.length, 2, "one dry run per check");
  });
});
