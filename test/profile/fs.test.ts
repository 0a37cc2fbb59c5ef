import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { nodeProfileFs } from "../../src/profile/fs.js";

describe("nodeProfileFs.mkdirs", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "hail-profile-fs-test-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function modeOf(p: string): Promise<string> {
    return ((await stat(p)).mode & 0o7777).toString(8);
  }

  for (const umask of [0o000, 0o002, 0o077]) {
    it(`creates every missing directory 0755 under umask ${umask.toString(8).padStart(3, "0")}`, async () => {
      const base = join(root, `umask-${umask.toString(8)}`);
      const old = process.umask(umask);
      try {
        await nodeProfileFs.mkdirs(join(base, "hail", "nested"));
      } finally {
        process.umask(old);
      }
      assert.deepEqual(
        await Promise.all([base, join(base, "hail"), join(base, "hail", "nested")].map(modeOf)),
        ["755", "755", "755"],
      );
    });
  }

  it("leaves a directory that exists as it is", async () => {
    const mine = join(root, "mine");
    await mkdir(mine, { mode: 0o700 });
    await nodeProfileFs.mkdirs(mine);
    await nodeProfileFs.mkdirs(join(mine, "sub"));
    assert.equal(await modeOf(mine), "700");
    assert.equal(await modeOf(join(mine, "sub")), "755");
  });
});
