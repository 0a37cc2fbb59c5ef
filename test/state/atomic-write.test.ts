import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeFileAtomic } from "../../src/state/atomic-write.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "hail-atomic-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("writes the file with its mode and leaves no temporary file", async () => {
    const sub = join(dir, "a");
    await mkdir(sub);
    await writeFileAtomic(join(sub, "f.json"), "one\n", 0o600);
    assert.equal(await readFile(join(sub, "f.json"), "utf8"), "one\n");
    assert.equal((await stat(join(sub, "f.json"))).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(sub), ["f.json"]);
  });

  it("replaces an existing file by rename: a new inode, the whole new content", async () => {
    const sub = join(dir, "b");
    await mkdir(sub);
    const file = join(sub, "f.json");
    await writeFileAtomic(file, "a long first content\n");
    const before = await stat(file);
    await writeFileAtomic(file, "short\n");
    const after = await stat(file);
    assert.equal(await readFile(file, "utf8"), "short\n");
    assert.notEqual(after.ino, before.ino);
    assert.equal(after.mode & 0o777, 0o644, "the default mode");
    assert.deepEqual(await readdir(sub), ["f.json"]);
  });

  it("gives the file its mode whatever the umask (077 would hide the metrics file from its reader)", async () => {
    const sub = join(dir, "umask");
    await mkdir(sub);
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(join(sub, "hail.prom"), "x\n");
    } finally {
      process.umask(old);
    }
    assert.equal((await stat(join(sub, "hail.prom"))).mode & 0o777, 0o644);
  });

  it("fails naming the path when the directory is missing", async () => {
    await assert.rejects(writeFileAtomic(join(dir, "missing", "f.json"), "x"), (err: unknown) => {
      return err instanceof Error && "code" in err && err.code === "ENOENT" && "path" in err && String(err.path).startsWith(join(dir, "missing"));
    });
  });

  it("removes its temporary file when the rename fails, and leaves what was there", async () => {
    const sub = join(dir, "c");
    await mkdir(join(sub, "f.json"), { recursive: true });
    await assert.rejects(writeFileAtomic(join(sub, "f.json"), "x"), (err: unknown) => err instanceof Error && "code" in err && err.code === "EISDIR");
    assert.deepEqual(await readdir(sub), ["f.json"]);
    assert.ok((await stat(join(sub, "f.json"))).isDirectory());
  });
});
