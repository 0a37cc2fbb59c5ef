// --nixos end to end: fake NixOS systems built with real Nix, published to the signed cache,
// deployed by the built CLI through the Hydra test server.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { FakeSystem } from "../support/nixos-systems.js";
import { bootedSystemLike, publishedSystems } from "../support/nixos-systems.js";
import { readLines } from "../support/cli.js";
import { createWorld, greenGate, type World } from "./world.js";


describe("hail --nixos with real Nix", () => {
  let w: World;
  let switchLog: string;
  let booted: string;
  let a1: FakeSystem, a2: FakeSystem, bad: FakeSystem, notSystem: FakeSystem, newKernel: FakeSystem;
  const nixos = (profile: string) => [...w.gateArgs(profile), "--nixos", "--booted-system", booted, "--oneshot"];
  const hail = (args: string[]) => w.hail(args, { HAIL_TEST_SWITCH_LOG: switchLog });

  before(async () => {
    w = await createWorld();
    switchLog = path.join(w.lab.root, "switches.log");
    [a1, a2, bad, notSystem, newKernel] = (await publishedSystems(
      w.lab,
      { name: "host", version: "1", kernel: "6.1" },
      { name: "host", version: "2", kernel: "6.1" },
      { name: "host", version: "bad", kernel: "6.1", switchExtra: "exit 3" },
      { name: "host", version: "app", kernel: "6.1", notASystem: true },
      { name: "host", version: "3", kernel: "6.6" },
    )) as [FakeSystem, FakeSystem, FakeSystem, FakeSystem, FakeSystem];
    booted = await bootedSystemLike(path.join(w.lab.root, "booted"), a1);
  });
  after(() => w.close());

  it("plan shows the switch-to-configuration command it would run", async () => {
    for (const b of greenGate(100, 10, a1.path)) w.hydra.addBuild(b);
    const r = await w.hail(["plan", ...w.gateArgs("system"), "--nixos", "--booted-system", booted]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${a1.path}/bin/switch-to-configuration switch`));
    assert.doesNotMatch(r.stdout, /bin\/activate/);
    assert.match(r.stdout, /reboot: +unknown until .* is in the local store \(plan --fetch realises it\)/);
  });

  it("first deploy: substitutes the system, sets the profile, runs switch-to-configuration switch", async () => {
    const r = await hail(nixos("system"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("system"), a1.path);
    assert.deepEqual(await readLines(switchLog), [`${a1.path} switch`]);
  });

  it("an update switches to the new system", async () => {
    for (const b of greenGate(200, 20, a2.path)) w.hydra.addBuild(b);
    const r = await hail(nixos("system"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("system"), a2.path);
    assert.deepEqual(await w.generations("system"), [1, 2]);
    assert.deepEqual((await readLines(switchLog)).slice(-1), [`${a2.path} switch`]);
  });

  it("a failing switch rolls back and runs the previous system's switch-to-configuration switch", async () => {
    const before = (await readLines(switchLog)).length;
    for (const b of greenGate(300, 30, bad.path)) w.hydra.addBuild(b);
    const r = await hail(nixos("system"));
    assert.equal(r.code, 1, r.stderr);
    assert.equal(await w.profileTarget("system"), a2.path);
    assert.deepEqual((await readLines(switchLog)).slice(before), [`${bad.path} switch`, `${a2.path} switch`]);
    const state = await w.readState("system");
    assert.ok(state?.failed.some((f) => f.storePath === bad.path));
  });

  it("a closure that is not a NixOS system is refused (65), marked failed, the profile untouched", async () => {
    const before = (await readLines(switchLog)).length;
    const generations = await w.generations("system");
    for (const b of greenGate(400, 40, notSystem.path)) w.hydra.addBuild(b);
    const r = await hail(nixos("system"));
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, /is not a NixOS system/);
    assert.equal(await w.profileTarget("system"), a2.path);
    assert.deepEqual(await w.generations("system"), generations);
    assert.equal((await readLines(switchLog)).length, before, "no switch-to-configuration ran");
    assert.ok((await w.readState("system"))?.failed.some((f) => f.storePath === notSystem.path));
  });

  it("a kernel change without --reboot-window is switched and logged for the next reboot", async () => {
    for (const b of greenGate(500, 50, newKernel.path)) w.hydra.addBuild(b);
    const r = await hail(nixos("system"));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readLines(switchLog)).slice(-1), [`${newKernel.path} switch`]);
    assert.match(r.stderr, /kernel, initrd, kernel-modules changed: new kernel active after the next reboot/);
  });

  it("--nixos-action boot makes the system the boot default only", async () => {
    for (const b of greenGate(600, 60, a1.path)) w.hydra.addBuild(b);
    const r = await hail([...nixos("boot-only"), "--nixos-action", "boot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("boot-only"), a1.path);
    assert.deepEqual((await readLines(switchLog)).slice(-1), [`${a1.path} boot`]);
  });
});
