import assert from "node:assert/strict";
import { constants } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { ensureDirectory, readTrusted, untrusted } from "../src/trusted-file.js";

const NOBODY = 65534;
const FILE = constants.S_IFREG;
const DIR = constants.S_IFDIR;

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "hail-trusted-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
const fresh = (name = "f") => join(root, `${name}${++n}`);
const rule = { maxBytes: 1024, followLink: false };

describe("untrusted: OpenSSH's rule for a file or directory root acts on", () => {
  const cases: Array<[string, { uid: number; mode: number }, "file" | "directory", number, RegExp | null]> = [
    ["root's 0644 file", { uid: 0, mode: FILE | 0o644 }, "file", 0, null],
    ["root's 0600 file", { uid: 0, mode: FILE | 0o600 }, "file", 0, null],
    ["root's 0750 directory", { uid: 0, mode: DIR | 0o750 }, "directory", 0, null],
    ["a file nobody owns, hail as root", { uid: NOBODY, mode: FILE | 0o600 }, "file", 0, /owned by uid 65534, not by root$/],
    ["hail's own user's file, hail as uid 1000", { uid: 1000, mode: FILE | 0o600 }, "file", 1000, null],
    ["root's file, hail as uid 1000", { uid: 0, mode: FILE | 0o600 }, "file", 1000, null],
    ["another user's file, hail as uid 1000", { uid: 1001, mode: FILE | 0o600 }, "file", 1000, /owned by uid 1001, not by root or uid 1000/],
    ["group-writable", { uid: 0, mode: FILE | 0o664 }, "file", 0, /writable by its group \(mode 0664\)/],
    ["world-writable", { uid: 0, mode: FILE | 0o646 }, "file", 0, /writable by others \(mode 0646\)/],
    ["a 0777 directory (mkdir under umask 000)", { uid: 0, mode: DIR | 0o777 }, "directory", 0, /writable by group and others \(mode 0777\)/],
    ["a FIFO", { uid: 0, mode: constants.S_IFIFO | 0o600 }, "file", 0, /not a regular file \(a FIFO/],
    ["a character device", { uid: 0, mode: constants.S_IFCHR | 0o600 }, "file", 0, /not a regular file \(a character device\)/],
    ["a directory where a file belongs", { uid: 0, mode: DIR | 0o700 }, "file", 0, /not a regular file \(a directory\)/],
    ["a file where a directory belongs", { uid: 0, mode: FILE | 0o700 }, "directory", 0, /not a directory \(a regular file\)/],
  ];
  for (const [title, info, expect, uid, refused] of cases) {
    it(title, () => {
      const got = untrusted(info, expect, uid);
      if (refused === null) assert.equal(got, null);
      else assert.match(got?.why ?? "(trusted)", refused);
    });
  }
});

describe("readTrusted", () => {
  it("reads a trusted regular file, and says missing for none", async () => {
    const file = fresh();
    await writeFile(file, "hello", { mode: 0o600 });
    assert.deepEqual(await readTrusted(file, rule), { kind: "read", text: "hello", mode: FILE | 0o600 });
    assert.deepEqual(await readTrusted(fresh(), rule), { kind: "missing" });
  });

  it("refuses a FIFO at once, without waiting for a writer", async () => {
    const fifo = fresh("fifo");
    await execa("mkfifo", [fifo]);
    for (const followLink of [false, true]) {
      const got = await readTrusted(fifo, { ...rule, followLink });
      assert.equal(got.kind, "refused");
      assert.match(got.kind === "refused" ? got.refusal.why : "", /not a regular file \(a FIFO/);
    }
  });

  it("refuses /dev/zero (a device that never ends)", async () => {
    const got = await readTrusted("/dev/zero", { ...rule, followLink: true });
    assert.match(got.kind === "refused" ? got.refusal.why : got.kind, /not a regular file \(a character device\)/);
  });

  it("refuses a file another user owns, or that others can write", async () => {
    const planted = fresh();
    await writeFile(planted, "{}", { mode: 0o600 });
    await chown(planted, NOBODY, NOBODY);
    const loose = fresh();
    await writeFile(loose, "{}");
    await chmod(loose, 0o666);
    const got = [await readTrusted(planted, rule), await readTrusted(loose, rule)];
    assert.deepEqual(got.map((g) => (g.kind === "refused" ? g.refusal.kind : g.kind)), ["trust", "trust"]);
  });

  it("refuses by size before reading: one byte over, and a sparse 3 GiB file", async () => {
    const over = fresh();
    await writeFile(over, "x".repeat(1025), { mode: 0o600 });
    const exact = fresh();
    await writeFile(exact, "x".repeat(1024), { mode: 0o600 });
    const huge = fresh();
    await writeFile(huge, "", { mode: 0o600 });
    await truncate(huge, 3 * 1024 ** 3);
    assert.equal((await readTrusted(exact, rule)).kind, "read");
    for (const file of [over, huge]) {
      const got = await readTrusted(file, rule);
      assert.match(got.kind === "refused" ? got.refusal.why : got.kind, /larger than/);
    }
  });

  it("follows a final symlink only when told, and then checks the file it reaches", async () => {
    const target = fresh();
    await writeFile(target, "secret", { mode: 0o600 });
    const link = fresh("link");
    await symlink(target, link);
    const notFollowed = await readTrusted(link, rule);
    assert.match(notFollowed.kind === "refused" ? notFollowed.refusal.why : notFollowed.kind, /symbolic link/);
    assert.equal((await readTrusted(link, { ...rule, followLink: true })).kind, "read");
    await chown(target, NOBODY, NOBODY);
    assert.equal((await readTrusted(link, { ...rule, followLink: true })).kind, "refused");
  });

  it("lets a symlink loop's ELOOP through, for the caller's error mapping", async () => {
    const loop = fresh("loop");
    await symlink(loop, loop);
    await assert.rejects(readTrusted(loop, { ...rule, followLink: true }), { code: "ELOOP" });
  });
});

describe("ensureDirectory", () => {
  it("makes the directory with its mode and missing parents 0755, whatever the umask", async () => {
    const old = process.umask(0);
    try {
      const parent = fresh("p");
      const dir = join(parent, "a", "state");
      assert.equal(await ensureDirectory(dir, 0o700, true), null);
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      assert.equal((await stat(join(parent, "a"))).mode & 0o777, 0o755);
      assert.equal((await stat(parent)).mode & 0o777, 0o755);
    } finally {
      process.umask(old);
    }
  });

  it("fails at once where a directory cannot be made (under /proc), instead of looping", async () => {
    await assert.rejects(ensureDirectory(`/proc/hail-test-${process.pid}`, 0o700, true), { code: "ENOENT", syscall: "mkdir" });
  });

  it("says what is wrong with one that is there: a file, a dangling link, another user's, a 0777 one", async () => {
    const file = fresh();
    await writeFile(file, "");
    const dangling = fresh("dangling");
    await symlink(join(root, "nowhere"), dangling);
    const foreign = fresh("d");
    await mkdir(foreign, { mode: 0o700 });
    await chown(foreign, NOBODY, NOBODY);
    const loose = fresh("d");
    await mkdir(loose);
    await chmod(loose, 0o777);
    assert.match((await ensureDirectory(file, 0o700, false))?.why ?? "", /not a directory/);
    assert.match((await ensureDirectory(dangling, 0o700, false))?.why ?? "", /symbolic link to nothing/);
    assert.match((await ensureDirectory(foreign, 0o700, true))?.why ?? "", /owned by uid 65534/);
    assert.match((await ensureDirectory(loose, 0o700, true))?.why ?? "", /writable by group and others/);
    // without `trust` (the metrics file's directory) only the type matters
    assert.equal(await ensureDirectory(loose, 0o755, false), null);
  });
});
