// --home-manager as a user other than root (nobody, through setpriv): hail's own files — the
// state dir and the profile's directory — go under the user's $XDG_STATE_HOME, never to
// /var/lib/hail, which a user cannot create. This machine's Nix is root's single-user store
// (no nix-daemon), so the user's realise itself fails; what is checked is everything before it.
import assert from "node:assert/strict";
import { chmod, chown, copyFile, mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { HAIL_BIN } from "../support/cli.js";
import { stateKey, worldAtGreenGate, type World } from "./world.js";

const NOBODY = 65534;
const canDropToNobody = process.getuid?.() === 0 && (await execa("setpriv", ["--version"], { reject: false })).exitCode === 0;

describe("hail --home-manager as a user, not root", { skip: canDropToNobody ? false : "needs root and setpriv to run hail as nobody" }, () => {
  let w: World;
  let home: string;
  let bin: string;

  before(async () => {
    ({ world: w } = await worldAtGreenGate("1"));
    home = await mkdtemp(path.join(os.tmpdir(), "hail-user-home-"));
    await chown(home, NOBODY, NOBODY);
    await chmod(home, 0o700);
    // nobody cannot reach the checkout when it sits below a directory only root may enter (a
    // clean clone in mktemp -d, a root home): node and the bundle are copied where it can
    bin = await mkdtemp(path.join(os.tmpdir(), "hail-user-bin-"));
    await chmod(bin, 0o755);
    await copyFile(process.execPath, path.join(bin, "node"));
    await chmod(path.join(bin, "node"), 0o755);
    await copyFile(HAIL_BIN, path.join(bin, "hail.mjs"));
    await chmod(path.join(bin, "hail.mjs"), 0o644);
  });
  after(async () => {
    await w.close();
    await rm(home, { recursive: true, force: true });
    await rm(bin, { recursive: true, force: true });
  });

  const asNobody = (args: string[]) =>
    execa("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", path.join(bin, "node"), path.join(bin, "hail.mjs"), ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: home, NIX_CONFIG: w.env.NIX_CONFIG ?? "" },
      extendEnv: false,
      reject: false,
    });
  const gate = () => ["--gate-job", w.gateUrl, "--constituent", "myapp", "--home-manager"];
  const profile = () => path.join(home, ".local", "state", "nix", "profiles", "home-manager");

  it("plan names the profile under ~/.local/state and runs as the user", async () => {
    const r = await asNobody(["plan", ...gate()]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^profile: +${profile()} `, "m"));
  });

  it("a one-shot keeps its state in ~/.local/state/hail (0700, the user's), makes the profile's directory, and gets as far as Nix", async () => {
    const r = await asNobody([...gate(), "--oneshot", "--log-format", "json"]);
    assert.doesNotMatch(r.stderr, /\/var\/lib\/hail/, "no trace of root's state dir");
    const stateDir = path.join(home, ".local", "state", "hail");
    const dir = await stat(stateDir);
    assert.equal(dir.uid, NOBODY);
    assert.equal(dir.mode & 0o777, 0o700);
    const state = await stat(path.join(stateDir, `${stateKey(profile())}.json`));
    assert.equal(state.uid, NOBODY);
    assert.equal((await stat(path.dirname(profile()))).uid, NOBODY);
    // the realise is Nix's: this machine has no nix-daemon for a user to reach
    assert.match(r.stderr, /nix-store/);
  });
});
