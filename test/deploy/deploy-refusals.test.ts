// What a deployment refuses to run: a profile it cannot trust (profile/trust.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeployResult } from "../../src/deploy/deploy.js";
import { deploy } from "../../src/deploy/deploy.js";
import { profileBefore } from "../../src/profile/links.js";
import { OPTS, PROFILE, STORE, TARGET, path, worldWith } from "./fake-world.js";

const V2 = path("v2");
const V3 = path("v3");
const REALISE = `nix-store --realise ${V3} --max-jobs 0`;
const SET = `nix-env --profile ${PROFILE} --set ${V3}`;

async function deployV3(world: ReturnType<typeof worldWith>): Promise<Extract<DeployResult, { kind: "failed" }>> {
  const previous = await profileBefore(PROFILE, STORE, world.fs);
  const result = await deploy(world.deployDeps, TARGET, { buildId: 3, storePath: V3 }, previous, OPTS);
  assert.equal(result.kind, "failed", JSON.stringify(result));
  return result as Extract<DeployResult, { kind: "failed" }>;
}

describe("deploy refuses", () => {
  it("a profile whose directory others can write: 73 before anything is realised or switched", async () => {
    const world = worldWith(path("v1"), V2);
    world.fs.owners.set("/profiles", { uid: 0, mode: 0o777 });
    const result = await deployV3(world);
    assert.equal(result.error.exitCode, 73);
    assert.equal(result.error.kind, "environment");
    assert.match(result.error.message, /refusing to run anything from profile \/profiles\/app: directory \/profiles: it is writable by group and others/);
    assert.deepEqual(world.nix.calls, []);
    assert.equal(await world.fs.at(), V2);
  });

  it("to re-activate a planted link when rolling back: the rollback fails and says why, nothing runs from it", async () => {
    const world = worldWith();
    world.fs.dirs.add("/tmp").add("/tmp/evil");
    world.fs.links.set(PROFILE, "/tmp/evil");
    world.nix.failActivation = (p) => (p === V3 ? "exit 1" : null);
    const result = await deployV3(world);
    assert.equal(result.rolledBack, false);
    assert.deepEqual(world.nix.calls, [REALISE, SET, `activate ${V3} build=3`], "/tmp/evil/bin/activate never ran");
    assert.match(result.error.message, /rollback failed: re-activating \/tmp\/evil failed: refusing to run anything from profile \/profiles\/app: it points to \/tmp\/evil, which is not a store path/);
  });
});
