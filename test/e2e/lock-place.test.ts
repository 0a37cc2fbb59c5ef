// Locks that outlive a rename, and hold per profile (issue 29, point 9), end to end: the built
// CLI, the Hydra test server and real Nix. A lock records the machine-id, boot id and pid
// namespace; a second lock beside the profile holds across state dirs and spellings.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chown, mkdir, readFile, readdir, realpath, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { profileKey } from "../../src/profile/key.js";
import { runHail } from "../support/cli.js";
import { createWorld, greenGate, loggedActivation, publishedApps, stateKey, waitForExit, waitUntil, type World } from "./world.js";

const NOBODY = 65534;

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));
}

/** What hail would record for a lock taken on this machine now, as written by the test. */
async function lockText(fields: Record<string, unknown>): Promise<string> {
  const here = {
    hostname: os.hostname(),
    machineId: (await readFile("/etc/machine-id", "utf8")).trim(),
    bootId: (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim(),
    pidNamespace: execFileSync("readlink", ["/proc/self/ns/pid"], { encoding: "utf8" }).trim(),
  };
  return `${JSON.stringify({ ...here, since: new Date().toISOString(), processStart: null, command: "oneshot", ...fields })}\n`;
}

function assertOneClearLine(stderr: string): void {
  assert.doesNotMatch(stderr, /unexpected error|\n\s+at /, stderr);
}

describe("locks that outlive a rename, and hold per profile", () => {
  let w: World;
  let app1: string;

  before(async () => {
    w = await createWorld();
    // Each activation says it started, then waits for its go file: a test holds the first
    // hail inside its activation for as long as it needs, without a timing assumption.
    const activate = loggedActivation('name=$(basename "$HAIL_PROFILE"); echo "started $name" >> "$HAIL_TEST_ACTIVATION_LOG"; while [ -n "$HAIL_TEST_HOLD" ] && [ ! -e "$HAIL_TEST_ACTIVATION_LOG.$name.go" ]; do sleep 0.1; done');
    [app1] = (await publishedApps(w.lab, { name: "myapp", version: "1", activate })) as [string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    await mkdir(w.stateDir, { recursive: true });
  });
  after(() => w.close());

  const lockFile = (profile: string) => path.join(w.stateDir, `${stateKey(path.join(w.lab.profilesDir, profile))}.lock`);
  const oneshot = (profile: string, profilesDir: string, stateDir: string) => [
    "--gate-job", w.gateUrl, "--constituent", "myapp", "--profile", profile,
    "--profiles-dir", profilesDir, "--state-dir", stateDir, "--log-format", "json", "--oneshot",
  ];
  const started = async (profile: string) => (await w.activations()).filter((l) => l === `started ${profile}`).length;

  it("a dead holder's lock written under another host name on this machine (machine-id and boot id) is taken over: the renamed host deploys", async () => {
    await writeFile(lockFile("renamed"), await lockText({ pid: deadPid(), hostname: "before-the-rename" }), { mode: 0o600 });
    const r = await w.hail([...w.gateArgs("renamed"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("renamed"), app1);
  });

  it("a lock from an earlier boot of this machine is taken over, even when its pid (1) lives now", async () => {
    await writeFile(lockFile("rebooted"), await lockText({ pid: 1, bootId: "00000000-0000-4000-8000-000000000000", since: "2020-01-01T00:00:00.000Z" }), { mode: 0o600 });
    const r = await w.hail([...w.gateArgs("rebooted"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("rebooted"), app1);
  });

  it("a lock from another machine-id is respected (75), even under this host name with a dead pid", async () => {
    const text = await lockText({ pid: deadPid(), machineId: "0123456789abcdef0123456789abcdef", bootId: "00000000-0000-4000-8000-000000000000" });
    await writeFile(lockFile("shared-storage"), text, { mode: 0o600 });
    const r = await w.hail([...w.gateArgs("shared-storage"), "--oneshot"]);
    assert.equal(r.code, 75, r.stderr);
    assert.ok(r.stderr.includes(lockFile("shared-storage")), r.stderr);
    assert.match(r.stderr, /another machine \(host [^,]+, machine-id 0123456789abcdef0123456789abcdef\)/);
    assert.equal(await w.profileTarget("shared-storage"), null, "nothing deployed");
    assert.equal(await readFile(lockFile("shared-storage"), "utf8"), text, "the lock is left as it was");
  });

  it("two hails on one profile through two --state-dir values never overlap: the second exits 75 while the first activates", async () => {
    const otherState = path.join(w.lab.root, "other-state");
    const first = w.startDaemon(oneshot("two-dirs", w.lab.profilesDir, w.stateDir), { ...w.env, HAIL_TEST_HOLD: "1" });
    await waitUntil(async () => (await started("two-dirs")) === 1, "the first hail's activation");
    const second = await w.hail(oneshot("two-dirs", w.lab.profilesDir, otherState));
    assert.equal(second.code, 75, second.stderr);
    const beside = path.join(await realpath(w.lab.profilesDir), "two-dirs.hail-lock-link");
    assert.ok(second.stderr.includes(`lock file ${beside}`), second.stderr);
    assert.ok(second.stderr.includes(`pid ${first.child.pid}`), second.stderr);
    await writeFile(`${w.activationLog}.two-dirs.go`, "");
    assert.equal(await waitForExit(first), 0, first.stderr);
    assert.equal(await started("two-dirs"), 1, "one activation only");
    assert.deepEqual((await readdir(otherState)).filter((f) => f.endsWith(".lock")), [], "the second hail left no lock behind");
    assert.ok(!(await readdir(w.lab.profilesDir)).some((f) => f.includes("hail-lock")), "both hails released the lock beside the profile");
  });

  it("two hails on one profile through a symlinked --profiles-dir never overlap: the second exits 75 while the first activates", async () => {
    const linked = path.join(w.lab.root, "linked-profiles");
    await symlink(w.lab.profilesDir, linked);
    const first = w.startDaemon(oneshot("spelled", w.lab.profilesDir, w.stateDir), { ...w.env, HAIL_TEST_HOLD: "1" });
    await waitUntil(async () => (await started("spelled")) === 1, "the first hail's activation");
    const second = await w.hail(oneshot("spelled", linked, w.stateDir));
    assert.equal(second.code, 75, second.stderr);
    assert.ok(second.stderr.includes(path.join(await realpath(w.lab.profilesDir), "spelled.hail-lock-link")), second.stderr);
    await writeFile(`${w.activationLog}.spelled.go`, "");
    assert.equal(await waitForExit(first), 0, first.stderr);
    assert.equal(await started("spelled"), 1, "one activation only");
  });

  it("a config file naming one profile twice, through a symlinked directory: the second target is refused (64), the profile activated once", async () => {
    const linked = path.join(w.lab.root, "linked-for-config");
    await symlink(w.lab.profilesDir, linked);
    const file = path.join(w.lab.root, "twice.json");
    const target = { gateJob: w.gateUrl, constituent: "myapp" };
    const targets = [{ ...target, profile: "twice" }, { ...target, profile: path.join(linked, "twice") }];
    await writeFile(file, JSON.stringify({ profilesDir: w.lab.profilesDir, stateDir: w.stateDir, logFormat: "json", oneshot: true, targets }));
    const r = await w.hail(["--config", file]);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /profile [^ ]+twice is locked by this hail itself \(pid \d+, oneshot\): the profile is named twice/);
    assert.equal(await w.profileTarget("twice"), app1, "the first target deployed");
    assert.equal(await started("twice"), 1, "one activation only");
  });

  // Nested, because Nix 2.8 itself cannot make the generation link of a flat name that long
  // (its temporary `NAME-1-link.tmp-PID-RANDOM` would pass 255 bytes).
  it("a valid 230-character profile name deploys; its state file has a short key", async () => {
    const name = `${"s".repeat(100)}/${"t".repeat(100)}/${"u".repeat(28)}`;
    assert.equal(name.length, 230);
    const r = await w.hail([...w.gateArgs(name), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget(name), app1);
    const key = profileKey(path.join(w.lab.profilesDir, name));
    assert.match(key, /%-[0-9a-f]{32}$/);
    const state = JSON.parse(await readFile(path.join(w.stateDir, `${key}.json`), "utf8")) as { lastDeployed: { storePath: string } | null };
    assert.equal(state.lastDeployed?.storePath, app1);
    const again = await w.hail([...w.gateArgs(name), "--oneshot"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already|up to date|current/i);
  });
});

describe("lock files hail cannot have written, and state dirs that cannot be one", () => {
  let w: World;

  before(async () => {
    w = await createWorld();
    const [app1] = (await publishedApps(w.lab, { name: "myapp", version: "1" })) as [string];
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    await mkdir(w.stateDir, { recursive: true });
  });
  after(() => w.close());

  const lockFile = (profile: string) => path.join(w.stateDir, `${stateKey(path.join(w.lab.profilesDir, profile))}.lock`);
  /** A safety net, not a measure: before the fix, these runs never ended. */
  const hail = (args: string[]) => runHail(args, w.env, 60_000);

  it("a FIFO as the lock file: exit 73 naming it, never opened (a blocking open would hang)", async () => {
    execFileSync("mkfifo", [lockFile("fifo")]);
    const r = await hail([...w.gateArgs("fifo"), "--oneshot"]);
    assert.equal(r.code, 73, r.stderr);
    assert.ok(r.stderr.includes(`lock file ${lockFile("fifo")} is not a regular file (it is a FIFO)`), r.stderr);
    assertOneClearLine(r.stderr);
    assert.equal(await w.profileTarget("fifo"), null);
  });

  it("a stale-looking lock owned by another user (planted by nobody): exit 73, not taken over", async () => {
    await writeFile(lockFile("planted"), await lockText({ pid: deadPid() }), { mode: 0o600 });
    await chown(lockFile("planted"), NOBODY, NOBODY);
    const r = await hail([...w.gateArgs("planted"), "--oneshot"]);
    assert.equal(r.code, 73, r.stderr);
    assert.ok(r.stderr.includes(`lock file ${lockFile("planted")} is owned by uid 65534`), r.stderr);
    assert.equal(await w.profileTarget("planted"), null);
  });

  it("a FIFO planted as the lock beside the profile: exit 73 naming it", async () => {
    const beside = path.join(w.lab.profilesDir, "beside.hail-lock-link");
    execFileSync("mkfifo", [beside]);
    const r = await hail([...w.gateArgs("beside"), "--oneshot"]);
    assert.equal(r.code, 73, r.stderr);
    assert.ok(r.stderr.includes(`lock file ${await realpath(w.lab.profilesDir)}/beside.hail-lock-link is not a regular file`), r.stderr);
    assert.deepEqual((await readdir(w.stateDir)).filter((f) => f.startsWith(stateKey(path.join(w.lab.profilesDir, "beside")))), [], "the state-dir lock was released");
  });

  it("--state-dir /proc/hail-state (issue 22: 94 % CPU for ever): exit 73 naming it", async () => {
    const r = await hail([...w.gateArgs("myapp"), "--oneshot", "--state-dir", "/proc/hail-state"]);
    assert.equal(r.code, 73, r.stderr);
    assert.match(r.stderr, /\/proc\/hail-state/);
    assertOneClearLine(r.stderr);
  });

  it("--state-dir that is a regular file: exit 73 naming it", async () => {
    const file = path.join(w.lab.root, "not-a-dir");
    await writeFile(file, "");
    const r = await hail([...w.gateArgs("myapp"), "--oneshot", "--state-dir", file]);
    assert.equal(r.code, 73, r.stderr);
    assert.ok(r.stderr.includes(file), r.stderr);
    assertOneClearLine(r.stderr);
  });
});
