import assert from "node:assert/strict";
import { chmod, chown, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { exposedSecretWarning, readFlagFile } from "../src/flag-file.js";

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "hail-flag-file-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
const fresh = () => join(dir, `f${++n}`);

describe("readFlagFile: what --config, --netrc-file and --hydra-password-file may name", () => {
  it("reads a root-owned 0600 file, not exposed; a 0644 one is read and flagged as exposed", async () => {
    const secret = fresh();
    await writeFile(secret, "machine h login l password p\n", { mode: 0o600 });
    assert.deepEqual(await readFlagFile("--netrc-file", secret), { kind: "read", text: "machine h login l password p\n", exposed: false, mode: 0o100600 });
    await chmod(secret, 0o644);
    const exposed = await readFlagFile("--netrc-file", secret);
    assert.equal(exposed.kind === "read" && exposed.exposed, true);
  });

  it("follows a final symlink (agenix, environment.etc) and checks the file it reaches", async () => {
    const target = fresh();
    await writeFile(target, "{}", { mode: 0o600 });
    const link = fresh();
    await symlink(target, link);
    assert.equal((await readFlagFile("--config", link)).kind, "read");
  });

  const unusable: Array<[string, () => Promise<string>, RegExp]> = [
    ["a missing file", async () => fresh(), /^cannot read it \(it does not exist\); fix the path$/],
    ["a FIFO", async () => { const f = fresh(); await execa("mkfifo", [f]); return f; }, /^refused: it is not a regular file \(a FIFO\); replace it with a regular file$/],
    ["another user's file", async () => { const f = fresh(); await writeFile(f, "x", { mode: 0o600 }); await chown(f, 65534, 65534); return f; }, /^refused: it is owned by uid 65534, not by root; inspect it/],
    ["a group-writable file", async () => { const f = fresh(); await writeFile(f, "x"); await chmod(f, 0o664); return f; }, /^refused: it is writable by its group \(mode 0664\); inspect it, then chmod go-w it$/],
    ["a directory", async () => dir, /^refused: it is not a regular file \(a directory\)/],
    ["a symlink loop", async () => { const f = fresh(); await symlink(f, f); return f; }, /^cannot read it \(ELOOP: too many symbolic links[^)]*\); fix the path or its permissions$/],
  ];
  for (const [what, make, problem] of unusable) {
    it(`says what is wrong with ${what}`, async () => {
      const got = await readFlagFile("--config", await make());
      assert.match(got.kind === "unusable" ? got.problem : got.kind, problem);
    });
  }

  it("the exposed-secret warning names the flag, the file, the mode and the fix, never the content", () => {
    assert.equal(
      exposedSecretWarning("--hydra-password-file", "/run/keys/hydra", 0o100640),
      "--hydra-password-file /run/keys/hydra is readable by other users (mode 0640): anyone on this host can read the credentials in it; chmod 600 /run/keys/hydra, and change them if others could read it",
    );
  });
});
