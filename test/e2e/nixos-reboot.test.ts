// --nixos --reboot-window end to end: a kernel change makes the system the boot default and
// the reboot command runs once, only inside the window. The window is set twelve hours away
// from the current UTC hour, so TZ=UTC is outside it and TZ=Etc/GMT-12 (UTC+12) inside it.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { FakeSystem } from "../support/nixos-systems.js";
import { INSIDE_WINDOW, OUTSIDE_WINDOW, bootedSystemLike, publishedSystems, rebootFiles, windowAwayFromNow } from "../support/nixos-systems.js";
import { readLines } from "../support/cli.js";
import { createWorld, greenGate, type World } from "./world.js";


const OUTSIDE = OUTSIDE_WINDOW;
const INSIDE = INSIDE_WINDOW;

describe("hail --nixos --reboot-window with real Nix", () => {
  let w: World;
  let switchLog: string;
  let rebootLog: string;
  let rebootScript: string;
  let booted: string;
  let metricsFile: string;
  let oldKernel: FakeSystem, newKernel: FakeSystem, newKernel2: FakeSystem;
  const window = windowAwayFromNow();
  const args = (profile: string) => [
    ...w.gateArgs(profile), "--nixos", "--booted-system", booted, "--oneshot",
    "--reboot-window", window, "--reboot-command", `${rebootScript} now 'two words'`, "--metrics-file", metricsFile,
  ];
  const hail = (profile: string, tz: Record<string, string>) => w.hail(args(profile), { HAIL_TEST_SWITCH_LOG: switchLog, ...tz });

  before(async () => {
    w = await createWorld();
    ({ switchLog, rebootLog, metricsFile, rebootScript } = await rebootFiles(w.lab.root));
    [oldKernel, newKernel, newKernel2] = (await publishedSystems(
      w.lab,
      { name: "host", version: "1", kernel: "6.1" },
      { name: "host", version: "2", kernel: "6.6" },
      { name: "host", version: "3", kernel: "6.6" },
    )) as [FakeSystem, FakeSystem, FakeSystem];
    booted = await bootedSystemLike(path.join(w.lab.root, "booted"), oldKernel);
  });
  after(() => w.close());

  it("same kernel as the booted system: switch, no reboot pending", async () => {
    for (const b of greenGate(100, 10, oldKernel.path)) w.hydra.addBuild(b);
    const r = await hail("system", OUTSIDE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readLines(switchLog), [`${oldKernel.path} switch`]);
    assert.match(await readFile(metricsFile, "utf8"), /^hail_reboot_pending\{profile="system"\} 0$/m);
  });

  it("plan --fetch says the kernel changes and shows the boot command it would run", async () => {
    for (const b of greenGate(200, 20, newKernel.path)) w.hydra.addBuild(b);
    const r = await w.hail(["plan", "--fetch", ...w.gateArgs("system"), "--nixos", "--booted-system", booted, "--reboot-window", window]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${newKernel.path}/bin/switch-to-configuration boot`));
    assert.match(r.stdout, /reboot: +yes \(kernel, initrd, kernel-modules changed\): made the boot default, then rebooted inside/);
  });

  it("a kernel change outside the window: boot, reboot pending (status, metrics), no reboot", async () => {
    for (const b of greenGate(200, 20, newKernel.path)) w.hydra.addBuild(b);
    const r = await hail("system", OUTSIDE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readLines(switchLog)).slice(-1), [`${newKernel.path} boot`]);
    assert.deepEqual(await readLines(rebootLog), [], "no reboot outside the window");
    assert.equal((await w.readState("system"))?.rebootPending?.storePath, newKernel.path);
    assert.match(await readFile(metricsFile, "utf8"), /^hail_reboot_pending\{profile="system"\} 1$/m);
    const status = await w.hail(["status", "system", ...w.manageArgs()]);
    assert.match(status.stdout, new RegExp(`reboot: +pending since .* into ${newKernel.path} \\(kernel, initrd, kernel-modules changed\\)`));
  });

  it("a later update with the same new kernel outside the window keeps waiting", async () => {
    for (const b of greenGate(300, 30, newKernel2.path)) w.hydra.addBuild(b);
    const r = await hail("system", OUTSIDE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readLines(switchLog)).slice(-1), [`${newKernel2.path} boot`]);
    assert.deepEqual(await readLines(rebootLog), []);
  });

  it("the first run inside the window reboots once (argv split, no shell), the next does not", async () => {
    const r = await hail("system", INSIDE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readLines(rebootLog), ["now|two words|"]);
    assert.equal((await w.readState("system"))?.rebootPending, null);
    assert.match(await readFile(metricsFile, "utf8"), /^hail_reboot_pending\{profile="system"\} 0$/m);
    const again = await hail("system", INSIDE);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await readLines(rebootLog), ["now|two words|"], "the reboot command ran once");
  });

  it("a kernel change deployed inside the window reboots right away", async () => {
    for (const b of greenGate(400, 40, newKernel.path)) w.hydra.addBuild(b);
    const r = await hail("other", INSIDE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readLines(switchLog)).slice(-1), [`${newKernel.path} boot`]);
    assert.equal((await readLines(rebootLog)).length, 2);
  });
});
