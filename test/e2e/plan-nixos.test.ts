// `plan --nixos` refuses a closure that is not a NixOS system with 65, as `run --nixos` does
// (issue 22, point 5), once the closure is in the store and can be looked at (plan --fetch).
// The built CLI, real Nix, the Hydra test server.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { FakeSystem } from "../support/nixos-systems.js";
import { bootedSystemLike, publishedSystems } from "../support/nixos-systems.js";
import { createWorld, greenGate, type World } from "./world.js";

describe("plan --nixos on a closure that is not a NixOS system", () => {
  let w: World;
  let booted: string;
  let system: FakeSystem, notSystem: FakeSystem, next: FakeSystem;

  before(async () => {
    w = await createWorld();
    [system, notSystem, next] = (await publishedSystems(
      w.lab,
      { name: "host", version: "1", kernel: "6.1" },
      { name: "host", version: "app", kernel: "6.1", notASystem: true },
      { name: "host", version: "2", kernel: "6.1" },
    )) as [FakeSystem, FakeSystem, FakeSystem];
    booted = await bootedSystemLike(path.join(w.lab.root, "booted"), system);
    // a deployed system: plan --fetch then realises the offered closure to compare it
    for (const b of greenGate(100, 10, system.path)) w.hydra.addBuild(b);
    const first = await w.hail([...w.gateArgs("system"), "--nixos", "--booted-system", booted, "--oneshot"]);
    assert.equal(first.code, 0, first.stderr);
  });
  after(() => w.close());

  it("exits 65 naming the closure and what it lacks, in text and in JSON, and changes no profile", async () => {
    for (const b of greenGate(200, 20, notSystem.path)) w.hydra.addBuild(b);
    const plan = ["plan", ...w.gateArgs("system"), "--nixos", "--booted-system", booted, "--fetch"];
    const r = await w.hail(plan);
    assert.equal(r.code, 65, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`error: +${notSystem.path} is not a NixOS system \\(it has no `));
    assert.match(r.stdout, /\(it has no nixos-version and no executable bin\/switch-to-configuration\)/);
    assert.doesNotMatch(r.stdout, /reboot:/);
    const json = await w.hail([...plan, "--json"]);
    assert.equal(json.code, 65, json.stderr);
    const body = JSON.parse(json.stdout) as { error: { kind: string; exitCode: number } };
    assert.deepEqual({ kind: body.error.kind, exitCode: body.error.exitCode }, { kind: "invalid_response", exitCode: 65 });
    assert.equal(await w.profileTarget("system"), system.path, "plan never deploys");
  });

  it("a NixOS system in the store is planned as before: exit 0, its switch command and the reboot answer", async () => {
    for (const b of greenGate(300, 30, next.path)) w.hydra.addBuild(b);
    const r = await w.hail(["plan", ...w.gateArgs("system"), "--nixos", "--booted-system", booted, "--fetch"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${next.path}/bin/switch-to-configuration switch`));
    assert.match(r.stdout, /reboot: +no \(same kernel, initrd and modules as /);
  });
});
