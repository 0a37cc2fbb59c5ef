// hail never builds (issue 29, point 3), with real Nix: a `.drv` offered as an output is refused
// before any command runs, and a path that no trusted cache has is not built on the host even
// when its derivation is in the local store, so Nix could build it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { pathExists } from "../../src/path-exists.js";
import { createWorld, greenGate, publishedApps, type World } from "./world.js";

describe("hail never builds, real Nix", () => {
  let w: World;
  let app1: string;

  before(async () => {
    w = await createWorld();
    [app1] = (await publishedApps(w.lab, { name: "myapp", version: "1" })) as [string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const first = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(first.code, 0, first.stderr);
  });
  after(() => w.close());

  /** The derivation `out` was built from: in the local store, so `nix-store --realise` of it would build. */
  async function derivationOf(out: string): Promise<string> {
    const drv = (await execa("nix-store", ["--query", "--deriver", out], { env: w.labEnv, extendEnv: false })).stdout.trim();
    assert.match(drv, /\.drv$/);
    assert.ok(await pathExists(drv), `${drv} is in the local store`);
    return drv;
  }

  it("a .drv offered as the output: 65 naming it, nothing realised, built or run", async () => {
    const unbuilt = await w.lab.buildApp("myapp", "from-drv");
    const drv = await derivationOf(unbuilt);
    await w.lab.deleteLocal(unbuilt);
    for (const b of greenGate(200, 20, drv)) w.hydra.addBuild(b);
    const calls = (await w.nixCalls()).length;
    const activations = await w.activations();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    w.hydra.removeBuild(200);
    assert.equal(r.code, 65, r.stderr);
    // the log line is JSON: the path's quotes are escaped
    assert.ok(r.stderr.includes(`output path \\"${drv}\\" is a derivation (.drv), a build recipe rather than a build output`), r.stderr);
    assert.deepEqual((await w.nixCalls()).slice(calls), [], "no nix command ran");
    assert.equal(await pathExists(unbuilt), false, "the derivation was not built");
    assert.deepEqual(await w.activations(), activations, "nothing was activated");
    assert.equal(await w.profileTarget("myapp"), app1);
  });

  it("an output no cache has, whose derivation is in the local store: not built, the deployment fails saying so", async () => {
    const missing = await w.lab.buildApp("myapp", "not-in-cache");
    await derivationOf(missing);
    await w.lab.deleteLocal(missing);
    for (const b of greenGate(300, 30, missing)) w.hydra.addBuild(b);
    const calls = (await w.nixCalls()).length;
    const activations = await w.activations();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`${missing} is not in the binary cache: no substituter this host trusts has it`), r.stderr);
    assert.match(r.stderr, /hail never builds on the host/);
    const newCalls = (await w.nixCalls()).slice(calls);
    assert.ok(newCalls.includes(`nix-store --realise ${missing} --max-jobs 0`), newCalls.join("\n"));
    assert.ok(!newCalls.some((c) => c.startsWith("nix-env")), "the profile was never switched");
    assert.equal(await pathExists(missing), false, "the output was not built");
    assert.deepEqual(await w.activations(), activations, "no activation ran");
    assert.equal(await w.profileTarget("myapp"), app1);
  });
});
