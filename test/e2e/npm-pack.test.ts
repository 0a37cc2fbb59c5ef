// Installing hail without Nix (README, "Install"): `npm pack` in a checkout, then
// `npm install -g ./hail-VERSION.tgz`, puts a working `hail` on PATH. Done here as a user
// would, into a temporary prefix and offline: the tarball is the single-file bundle and
// package.json, with no dependency to fetch. The installed `hail` starts through its shebang
// (`#!/usr/bin/env node`), so PATH's first `node` is the runtime running this test.
import assert from "node:assert/strict";
import { lstat, mkdtemp, readdir, readFile, readlink, realpath, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { HAIL_BIN } from "../support/cli.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { greenGate } from "./world.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const APP_PATH = "/nix/store/7xk3w8lbc6r1hzz4q3f0d4c9m2i5y1a0-myapp-1.0";
const packageJson = JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { name: string; version: string };

describe("npm pack, then npm install -g of the tarball", () => {
  let dir: string;
  let prefix: string;
  let env: NodeJS.ProcessEnv;
  let packed: { filename: string; files: { path: string; mode: number }[] };
  let hydra: HydraTestServer;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "hail-npm-pack-"));
    prefix = path.join(dir, "prefix");
    const { NODE_OPTIONS: _o, NODE_TEST_CONTEXT: _t, ...rest } = process.env;
    env = {
      ...rest,
      // the runtime running this test first: the installed hail's shebang and npm find it
      PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      // npm's cache and config in the temp dir, not the user's
      npm_config_cache: path.join(dir, "npm-cache"),
      npm_config_userconfig: path.join(dir, "npmrc"),
      npm_config_update_notifier: "false",
      HOME: dir,
      XDG_CONFIG_HOME: dir,
      NIX_CONF_DIR: dir,
    };
    // --ignore-scripts: the prepack script would rebuild dist/ under the other tests running
    // now; npm test has just built it, and what is packed is that build.
    const pack = await execa("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: REPO, env, extendEnv: false });
    packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0] as typeof packed;
    hydra = await HydraTestServer.start();
    for (const b of greenGate(100, 10, APP_PATH)) hydra.addBuild(b);
  });
  after(async () => {
    await hydra?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("packs the bundle, the man page, package.json, README, LICENSE and CHANGELOG, and nothing else", () => {
    assert.equal(packed.filename, `${packageJson.name}-${packageJson.version}.tgz`);
    assert.deepEqual(packed.files.map((f) => f.path).sort(), ["CHANGELOG.md", "LICENSE", "README.md", "dist/hail.1", "dist/hail.mjs", "package.json"]);
    const bundle = packed.files.find((f) => f.path === "dist/hail.mjs");
    assert.equal((bundle?.mode ?? 0) & 0o111, 0o111, "the bundle is executable in the tarball");
  });

  it("installs offline into a prefix: bin/hail links to the bundle, which starts with a node shebang, and no dependency is installed", async () => {
    // --offline: anything npm would have to fetch (a runtime dependency) fails the install
    const r = await execa("npm", ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", path.join(dir, packed.filename)], {
      cwd: dir, env, extendEnv: false, reject: false, all: true,
    });
    assert.equal(r.exitCode, 0, r.all);
    const installed = path.join(prefix, "lib", "node_modules", packageJson.name);
    assert.ok((await lstat(path.join(prefix, "bin", "hail"))).isSymbolicLink());
    assert.equal(await realpath(path.join(prefix, "bin", "hail")), path.join(await realpath(installed), "dist", "hail.mjs"), await readlink(path.join(prefix, "bin", "hail")));
    assert.equal((await stat(path.join(prefix, "bin", "hail"))).mode & 0o111, 0o111);
    assert.match(await readFile(path.join(installed, "dist", "hail.mjs"), "utf8"), /^#!\/usr\/bin\/env node\n/);
    assert.deepEqual((await readdir(installed)).sort(), ["CHANGELOG.md", "LICENSE", "README.md", "dist", "package.json"], "no node_modules beside the bundle");
    // package.json's `man`: npm links hail(1) into the prefix's man pages
    assert.equal(await realpath(path.join(prefix, "share", "man", "man1", "hail.1")), path.join(await realpath(installed), "dist", "hail.1"));
  });

  it("hail --version from PATH prints the package's version, as the bundle in the checkout does", async () => {
    const r = await execa("hail", ["--version"], { env: { ...env, PATH: `${prefix}/bin:${env.PATH ?? ""}` }, extendEnv: false, reject: false, all: true });
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, new RegExp(`^${packageJson.version.replace(/\./g, "\\.")}( \\([0-9a-f]{7,}(-dirty)?\\))?$`));
    const fromCheckout = await execa(process.execPath, [HAIL_BIN, "--version"], { env, extendEnv: false });
    assert.equal(r.stdout, fromCheckout.stdout);
  });

  it("hail plan from PATH asks the Hydra test server and answers with its build", async () => {
    const r = await execa("hail", [
      "plan", "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp",
      "--profile", "myapp", "--profiles-dir", path.join(dir, "profiles"), "--state-dir", path.join(dir, "state"), "--json",
    ], { env: { ...env, PATH: `${prefix}/bin:${env.PATH ?? ""}`, NIX_CONFIG: `substituters = ${hydra.url}` }, extendEnv: false, reject: false, all: true });
    assert.equal(r.exitCode, 0, r.all);
    const plan = JSON.parse(r.stdout) as { action: string; storePath: string; buildId: number };
    assert.deepEqual({ action: plan.action, storePath: plan.storePath, buildId: plan.buildId }, { action: "deploy", storePath: APP_PATH, buildId: 101 });
    assert.ok(hydra.requests.some((q) => q.path.startsWith("/job/myproject/main/release_gate/latest-finished")), "it asked the test server");
  });

  it("the installed hail runs on PATH's node, the runtime running this test", async () => {
    // a job the gate does not have: refused with a JSON log line, whose _meta names the runtime
    const r = await execa("hail", [
      "plan", "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "no-such-job",
      "--profile", "myapp", "--profiles-dir", path.join(dir, "profiles"), "--state-dir", path.join(dir, "state"), "--log-format", "json",
    ], { env: { ...env, PATH: `${prefix}/bin:${env.PATH ?? ""}` }, extendEnv: false, reject: false });
    const line = r.stderr.split("\n").find((l) => l.startsWith("{"));
    assert.ok(line, `no JSON log line; stderr:\n${r.stderr}`);
    assert.equal((JSON.parse(line) as { _meta: { nodejs?: string } })._meta.nodejs, process.version);
  });
});
