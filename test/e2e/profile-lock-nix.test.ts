// The lock beside the profile (<name>.hail-lock-link) next to real Nix: nix-env's own lock
// (<name>.lock), its generation links (<name>-N-link) and nix-collect-garbage -d's walk of the
// profiles dir are not disturbed by it, and it is not disturbed by them. Nix runs on a store
// and state dir of its own in a temp dir, so the collector never sees the machine's profiles.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { besideFile } from "../../src/state/lock-file.js";
import { lockProfileFiles } from "../../src/state/profile-lock.js";

describe("the lock beside the profile and real Nix", () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let profiles: string;
  const paths: string[] = [];

  const nix = async (tool: string, args: string[]) => (await execa(tool, args, { env, extendEnv: false })).stdout;
  const generations = async (profile: string) =>
    (await nix("nix-env", ["--profile", path.join(profiles, profile), "--list-generations"]))
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[0])
      .filter((n) => n !== undefined && /^\d+$/.test(n))
      .map(Number);

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "hail-nix-own-"));
    const confDir = path.join(root, "etc");
    await mkdir(confDir);
    await mkdir(path.join(root, "home"));
    env = {
      PATH: process.env.PATH,
      HOME: path.join(root, "home"),
      NIX_STORE_DIR: path.join(root, "store"),
      NIX_STATE_DIR: path.join(root, "var"),
      NIX_LOG_DIR: path.join(root, "log"),
      NIX_CONF_DIR: confDir,
      NIX_REMOTE: "",
      NIX_CONFIG: "sandbox = false\nsubstituters =",
    };
    for (const v of ["1", "2", "3"]) {
      const file = path.join(root, `content-${v}`);
      await writeFile(file, v);
      paths.push(await nix("nix-store", ["--add", file]));
    }
    // The collector below must only ever see this temp store: stop here if Nix is not using it.
    for (const p of paths) assert.ok(p.startsWith(`${path.join(root, "store")}/`), `Nix did not use the temp store: ${p}`);
    // where NixOS keeps named system profiles, whose every entry not ending in -link its
    // systemd-boot installer lists with nix-env as a profile
    profiles = path.join(root, "var", "profiles", "system-profiles");
    await mkdir(profiles, { recursive: true });
    for (const p of paths) await nix("nix-env", ["--profile", path.join(profiles, "app"), "--set", p]);
    // a profile whose name starts like the lock's: its generations are app.hail-N-link
    for (const p of paths.slice(0, 2)) await nix("nix-env", ["--profile", path.join(profiles, "app.hail"), "--set", p]);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("nix-env --set, --list-generations, --delete-generations, --rollback, nix-collect-garbage -d and the systemd-boot installer's walk work while hail holds the lock, and leave it alone", async () => {
    const lock = await lockProfileFiles(path.join(root, "state", "app.lock"), path.join(profiles, "app"), "daemon");
    assert.equal(lock.kind, "acquired");
    const lockFile = path.join(profiles, "app.hail-lock-link");
    const held = await readFile(lockFile, "utf8");
    // a temporary file left by a hail killed while taking the lock
    await writeFile(besideFile(lockFile, ".4242.0123456789ab.tmp"), held, { mode: 0o600 });
    for (const entry of await readdir(profiles)) {
      if (entry.endsWith("-link")) continue;
      await nix("nix-env", ["--profile", path.join(profiles, entry), "--list-generations"]); // the systemd-boot installer's walk
    }

    assert.deepEqual(await generations("app"), [1, 2, 3]);
    assert.deepEqual(await generations("app.hail"), [1, 2]);
    await nix("nix-env", ["--profile", path.join(profiles, "app"), "--set", paths[0] as string]); // takes nix-env's own app.lock
    assert.deepEqual(await generations("app"), [1, 2, 3, 4]);
    await nix("nix-env", ["--profile", path.join(profiles, "app"), "--delete-generations", "1"]);
    await nix("nix-env", ["--profile", path.join(profiles, "app"), "--rollback"]);
    assert.deepEqual(await generations("app"), [2, 3, 4]);
    await nix("nix-collect-garbage", ["-d"]);
    assert.deepEqual(await generations("app"), [3], "the collector walked the profile and kept only its current generation");
    assert.deepEqual(await generations("app.hail"), [2]);
    assert.equal(await readFile(lockFile, "utf8"), held, "the lock is as hail wrote it");

    if (lock.kind === "acquired") await lock.release();
    const left = await readdir(profiles);
    assert.deepEqual(left.filter((f) => !f.endsWith(".tmp-link")).sort(), ["app", "app-3-link", "app.hail", "app.hail-2-link"], "release removed the lock and left Nix's files");
  });
});
