// NixOS 26.05's switch inhibitors, end to end (the built CLI, real Nix, the Hydra test server):
// a system whose switch-inhibitors differ from the booted system's is made the boot default and
// follows the reboot policy, as a kernel change does; it is never a failure, never rolled back,
// never known-bad. A switch-to-configuration that refuses all the same (exit 1 with its
// inhibitor text) is taken as the same fallback. The window is set twelve hours away from the
// current UTC hour, so TZ=UTC is outside it and TZ=Etc/GMT-12 (UTC+12) inside it.
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

/** What switch-to-configuration-ng prints when the inhibitors refuse a switch (NixOS 26.05). */
const REFUSAL = [
  "echo 'Checking switch inhibitors...'",
  "echo 'There are changes to critical components of the system:'",
  "echo 'dbus-implementation : dbus -> broker'",
  "echo 'Switching into this system is not recommended.'",
  "echo 'you can set NIXOS_NO_CHECK=1 to ignore pre-switch checks.'",
  "echo \"Pre-switch check 'switchInhibitors' failed\"",
  "echo 'Pre-switch checks failed'",
  "exit 1",
].join("; ");

describe("hail --nixos and NixOS 26.05 switch inhibitors, with real Nix", () => {
  let w: World;
  let switchLog: string, rebootLog: string, rebootScript: string, booted: string, metricsFile: string;
  let same: FakeSystem, differ: FakeSystem, refuses: FakeSystem, none: FakeSystem;
  const window = windowAwayFromNow();
  const nixosArgs = () => ["--nixos", "--booted-system", booted];
  const withWindow = () => [...nixosArgs(), "--reboot-window", window, "--reboot-command", rebootScript];
  const hail = (profile: string, flags: string[], tz: Record<string, string>) =>
    w.hail([...w.gateArgs(profile), ...flags, "--oneshot", "--metrics-file", metricsFile], { HAIL_TEST_SWITCH_LOG: switchLog, ...tz });
  const metric = async (series: string) => new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\d)$`, "m").exec(await readFile(metricsFile, "utf8"))?.[1];
  const offer = (id: number, system: FakeSystem) => {
    for (const b of greenGate(id, id / 10, system.path)) w.hydra.addBuild(b);
  };

  before(async () => {
    w = await createWorld();
    ({ switchLog, rebootLog, metricsFile, rebootScript } = await rebootFiles(w.lab.root));
    let booted1: FakeSystem;
    [booted1, same, differ, refuses, none] = (await publishedSystems(
      w.lab,
      { name: "host", version: "1", kernel: "6.1" },
      { name: "host", version: "2", kernel: "6.1" },
      { name: "host", version: "3", kernel: "6.1", inhibitors: '{"dbus-implementation":"broker"}' },
      // the files look the same, and yet switch-to-configuration refuses (a race, a format hail did not foresee)
      { name: "host", version: "4", kernel: "6.1", switchBefore: `if [ "$1" = switch ]; then ${REFUSAL}; fi` },
      { name: "host", version: "5", kernel: "6.1", inhibitors: null },
    )) as [FakeSystem, FakeSystem, FakeSystem, FakeSystem, FakeSystem];
    booted = await bootedSystemLike(path.join(w.lab.root, "booted"), booted1);
  });
  after(() => w.close());

  it("equal inhibitors: switch as before, no reboot pending", async () => {
    offer(100, same);
    const r = await hail("equal", withWindow(), OUTSIDE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readLines(switchLog), [`${same.path} switch`]);
    assert.equal((await w.readState("equal"))?.rebootPending, null);
    assert.equal(await metric('hail_reboot_pending{profile="equal"}'), "0");
  });

  // after a deployment: plan --fetch realises the offered system only to compare it with a current one
  it("plan --fetch says a reboot is needed because the inhibitors differ, with sizes and digests, in text and JSON", async () => {
    offer(200, differ);
    const plan = ["plan", "--fetch", ...w.gateArgs("equal"), ...withWindow()];
    const r = await w.hail(plan);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${differ.path}/bin/switch-to-configuration boot`));
    assert.match(
      r.stdout,
      /reboot: +yes \(switch inhibitors differ \(booted: 30 bytes sha256:[0-9a-f]{12}, new: 32 bytes sha256:[0-9a-f]{12}\)\): made the boot default, then rebooted inside /,
    );
    assert.doesNotMatch(r.stdout, /broker/, "the file's content is not shown");
    const json = await w.hail([...plan, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as { reboot: string; rebootReasons: string[] } | { reboot: string; rebootReasons: string[] }[];
    const report = Array.isArray(body) ? body[0] : body;
    assert.deepEqual(report?.rebootReasons, ["switch-inhibitors"]);
    assert.match(report?.reboot ?? "", /switch inhibitors differ \(booted: 30 bytes sha256:[0-9a-f]{12}, new: 32 bytes/);
    assert.equal(await w.profileTarget("equal"), same.path, "plan never deploys");
    offer(300, none);
    const missing = await w.hail(["plan", "--fetch", ...w.gateArgs("equal"), ...nixosArgs()]);
    assert.equal(missing.code, 0, missing.stderr);
    assert.match(missing.stdout, /reboot: +yes \(switch inhibitors differ \(booted: 30 bytes sha256:[0-9a-f]{12}, new: none\)\): made the boot default, active after the next reboot \(no --reboot-window/);
  });

  it("different inhibitors outside the window: boot, reboot pending (state, status, metrics), no failure, not known-bad", async () => {
    offer(500, differ);
    const r = await hail("outside", withWindow(), OUTSIDE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readLines(switchLog)).slice(-1), [`${differ.path} boot`], "never `switch`: it would be refused");
    assert.deepEqual(await readLines(rebootLog), [], "no reboot outside the window");
    assert.equal(await w.profileTarget("outside"), differ.path, "not rolled back");
    const state = await w.readState("outside");
    assert.deepEqual(state?.failed, []);
    assert.equal(state?.lastAttempt?.result, "success");
    assert.deepEqual({ storePath: state?.rebootPending?.storePath, changed: state?.rebootPending?.changed }, { storePath: differ.path, changed: ["switch-inhibitors"] });
    assert.equal(await metric('hail_reboot_pending{profile="outside"}'), "1");
    assert.equal(await metric('hail_reboot_pending_reason{profile="outside",reason="switch-inhibitors"}'), "1");
    assert.equal(await metric('hail_reboot_pending_reason{profile="outside",reason="kernel"}'), "0");
    const status = await w.hail(["status", "outside", ...w.manageArgs()]);
    assert.match(status.stdout, new RegExp(`reboot: +pending since .* into ${differ.path} \\(switch-inhibitors changed\\)`));
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /NIXOS_NO_CHECK=1/);
  });

  it("different inhibitors inside the window: boot, then the reboot command runs", async () => {
    offer(600, differ);
    const r = await hail("inside", withWindow(), INSIDE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readLines(switchLog)).slice(-1), [`${differ.path} boot`]);
    assert.deepEqual(await readLines(rebootLog), ["|"]);
    assert.equal((await w.readState("inside"))?.rebootPending, null, "the mark is cleared when the reboot command runs");
  });

  it("different inhibitors without a window: boot, and a reboot pending that hail leaves to the operator", async () => {
    offer(700, differ);
    const r = await hail("nowindow", nixosArgs(), INSIDE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readLines(switchLog)).slice(-1), [`${differ.path} boot`]);
    assert.deepEqual(await readLines(rebootLog), ["|"], "no reboot without a window");
    assert.deepEqual((await w.readState("nowindow"))?.rebootPending?.changed, ["switch-inhibitors"]);
    assert.equal(await metric('hail_reboot_pending{profile="nowindow"}'), "1");
    assert.match(r.stderr, /switch inhibitors differ .*: making \S+ the boot default; it becomes active at the next reboot \(no --reboot-window: reboot by hand\)/);
  });

  it("switch-to-configuration refuses for its inhibitors though the files look equal: boot instead, the pass is no failure", async () => {
    offer(800, refuses);
    const r = await hail("fallback", withWindow(), OUTSIDE);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readLines(switchLog)).slice(-1), [`${refuses.path} boot`], "the refused switch recorded nothing; boot ran");
    assert.match(r.stderr, /switch-to-configuration refused to switch into \S+ because its switch inhibitors differ/);
    assert.equal(await w.profileTarget("fallback"), refuses.path, "not rolled back");
    const state = await w.readState("fallback");
    assert.deepEqual(state?.failed, [], "not known-bad");
    assert.equal(state?.lastAttempt?.result, "success");
    assert.deepEqual(state?.rebootPending?.changed, ["switch-inhibitors"]);
    assert.equal(await metric('hail_reboot_pending_reason{profile="fallback",reason="switch-inhibitors"}'), "1");
  });
});
