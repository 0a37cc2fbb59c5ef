import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { LockInfo } from "../../src/state/lock.js";
import { acquireLock } from "../../src/state/lock.js";
import type { HolderPlace, MachinePlace } from "../../src/state/lock-owner.js";
import { readPlace, thisPlace, whereIs } from "../../src/state/lock-owner.js";

const HERE: MachinePlace = { hostname: "web1", machineId: "a".repeat(32), bootId: "11111111-1111-1111-1111-111111111111", pidNamespace: "pid:[4026531836]" };
const BOOTED = Date.parse("2026-06-01T00:00:00Z");
const AFTER_BOOT = "2026-06-02T00:00:00.000Z";
const BEFORE_BOOT = "2026-05-01T00:00:00.000Z";
const OTHER_BOOT = "22222222-2222-2222-2222-222222222222";

describe("whereIs: where a lock's holder runs", () => {
  const cases: Array<[string, HolderPlace, MachinePlace, string]> = [
    ["an older lock (host name only) from this host", { hostname: "web1", since: AFTER_BOOT }, HERE, "local"],
    ["an older lock from another host", { hostname: "web2", since: AFTER_BOOT }, HERE, "elsewhere"],
    ["this machine-id and boot under an old host name (a renamed host)", { ...HERE, hostname: "old-name", since: AFTER_BOOT }, HERE, "local"],
    ["another machine-id under this host name", { ...HERE, machineId: "b".repeat(32), since: AFTER_BOOT }, HERE, "elsewhere"],
    ["this machine-id, a boot that ended before this one began", { ...HERE, bootId: OTHER_BOOT, since: BEFORE_BOOT }, HERE, "earlier-boot"],
    ["this machine-id, a renamed host, an earlier boot", { ...HERE, hostname: "old-name", bootId: OTHER_BOOT, since: BEFORE_BOOT }, HERE, "earlier-boot"],
    ["this machine-id, another boot, taken since this boot began (a cloned image)", { ...HERE, bootId: OTHER_BOOT, since: AFTER_BOOT }, HERE, "elsewhere"],
    ["this machine-id, another boot, a time that does not parse", { ...HERE, bootId: OTHER_BOOT, since: "garbage" }, HERE, "earlier-boot"],
    ["this boot, another pid namespace, this host name (a restarted container)", { ...HERE, pidNamespace: "pid:[4026532000]", since: AFTER_BOOT }, HERE, "local"],
    ["this boot, another pid namespace, another host name (another container)", { ...HERE, hostname: "ctr2", pidNamespace: "pid:[4026532000]", since: AFTER_BOOT }, HERE, "elsewhere"],
    ["no machine-id here (/etc/machine-id missing): the host name decides, same host", { ...HERE, since: AFTER_BOOT }, { ...HERE, machineId: null }, "local"],
    ["no machine-id here: the host name decides, another host", { ...HERE, hostname: "web2", since: AFTER_BOOT }, { ...HERE, machineId: null }, "elsewhere"],
    ["no machine-id in the lock: the host name decides", { hostname: "web1", machineId: null, bootId: OTHER_BOOT, since: BEFORE_BOOT }, HERE, "earlier-boot"],
    ["no boot id here: this machine, the pid decides", { ...HERE, bootId: OTHER_BOOT, since: BEFORE_BOOT }, { ...HERE, bootId: null }, "local"],
  ];
  for (const [what, holder, here, kind] of cases) {
    it(`${what}: ${kind}`, () => assert.equal(whereIs(holder, here, BOOTED).kind, kind));
  }

  it("says why a holder elsewhere is respected, and what to do about a cloned machine-id", () => {
    const other = whereIs({ ...HERE, machineId: "b".repeat(32), since: AFTER_BOOT }, HERE, BOOTED);
    assert.match(other.kind === "elsewhere" ? other.why : "", new RegExp(`another machine \\(host web1, machine-id ${"b".repeat(32)}\\)`));
    const clone = whereIs({ ...HERE, bootId: OTHER_BOOT, since: AFTER_BOOT }, HERE, BOOTED);
    assert.match(clone.kind === "elsewhere" ? clone.why : "", /cloned image.*systemd-machine-id-setup/);
  });
});

describe("thisPlace", () => {
  it("reads /etc/machine-id, the boot id and the pid namespace of this machine", async () => {
    const place = await thisPlace();
    assert.equal(place.hostname, hostname());
    assert.equal(place.machineId, (await readFile("/etc/machine-id", "utf8")).trim());
    assert.equal(place.bootId, (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim());
    assert.match(place.pidNamespace ?? "", /^pid:\[\d+\]$/);
  });
});

describe("acquireLock judges a lock by its machine and boot", () => {
  let dir: string;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hail-lock-owner-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const deadPid = () => Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));

  async function lockWith(holder: Partial<LockInfo>): Promise<string> {
    n += 1;
    const file = join(dir, `p${n}.lock`);
    const full = { ...(await thisPlace()), pid: process.pid, since: new Date().toISOString(), processStart: null, command: "planted", ...holder };
    await writeFile(file, `${JSON.stringify(full)}\n`, { mode: 0o600 });
    return file;
  }

  it("records this machine's machine-id, boot id and pid namespace in the lock", async () => {
    n += 1;
    const file = join(dir, `p${n}.lock`);
    const lock = await acquireLock(file, "test");
    assert.equal(lock.kind, "acquired");
    const written = JSON.parse(await readFile(file, "utf8")) as LockInfo;
    const place = await thisPlace();
    assert.deepEqual([written.machineId, written.bootId, written.pidNamespace], [place.machineId, place.bootId, place.pidNamespace]);
    if (lock.kind === "acquired") await lock.release();
  });

  it("takes over a dead holder's lock written under another host name on this machine (a renamed host)", async () => {
    const file = await lockWith({ pid: deadPid(), hostname: "before-the-rename" });
    const lock = await acquireLock(file, "after the rename");
    assert.equal(lock.kind, "acquired");
    assert.equal((JSON.parse(await readFile(file, "utf8")) as LockInfo).command, "after the rename");
  });

  it("takes over a lock from an earlier boot of this machine, even when its pid is alive now", async () => {
    // pid 1 lives, and the lock names no process start time to tell it apart
    const file = await lockWith({ pid: 1, bootId: "00000000-0000-0000-0000-000000000000", since: "2020-01-01T00:00:00.000Z" });
    const lock = await acquireLock(file, "after the reboot");
    assert.equal(lock.kind, "acquired");
  });

  it("respects a lock from another machine-id, even under this host name with a dead pid", async () => {
    const file = await lockWith({ pid: deadPid(), machineId: "0".repeat(32), bootId: "00000000-0000-0000-0000-000000000000" });
    const before = await readFile(file, "utf8");
    const lock = await acquireLock(file, "here");
    assert.equal(lock.kind, "held");
    assert.match((lock.kind === "held" && lock.where) || "", /another machine/);
    assert.equal(await readFile(file, "utf8"), before);
  });
});

describe("readPlace: where /etc/machine-id is missing", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hail-machine-id-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("falls back to D-Bus's machine-id, and to none (the host name decides) when neither holds one", async () => {
    const etc = join(dir, "etc-machine-id");
    const dbus = join(dir, "dbus-machine-id");
    const files = { machineIds: [etc, dbus], bootId: "/proc/sys/kernel/random/boot_id" };
    await writeFile(dbus, `${"c".repeat(32)}\n`);
    assert.equal((await readPlace(files)).machineId, "c".repeat(32), "/etc/machine-id missing: D-Bus's");
    await writeFile(etc, "uninitialized\n");
    assert.equal((await readPlace(files)).machineId, "c".repeat(32), "systemd's first boot: D-Bus's");
    await writeFile(etc, `${"d".repeat(32)}\n`);
    assert.equal((await readPlace(files)).machineId, "d".repeat(32), "/etc/machine-id first");
    await rm(etc);
    await rm(dbus);
    assert.equal((await readPlace(files)).machineId, null);
  });
});
