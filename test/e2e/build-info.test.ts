// Which hail runs where (README, "Observability"): `hail --version`, the metric hail_build_info
// and the JSON logs' _meta name the same version and commit, the Node.js running the built CLI
// and the host as the kernel names it, also where HOSTNAME is unset (systemd, cron, env -i).
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { HAIL_BIN } from "../support/cli.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { worldAtGreenGate, type World } from "./world.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const VERSION = (JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;

/** The environment of the test without node --test's marker and without HOSTNAME. */
function envWithoutHostname(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _o, NODE_TEST_CONTEXT: _t, HOSTNAME: _h, ...rest } = process.env;
  return rest;
}

/** `0.2.0 (abc1234)` → { version, commit }; the commit is null for `0.2.0` alone. */
function parseVersion(text: string): { version: string; commit: string | null } {
  const m = /^(\S+)(?: \(([0-9a-f]{7,}(?:-dirty)?)\))?$/.exec(text.trim());
  assert.ok(m?.[1], `hail --version printed ${JSON.stringify(text)}`);
  return { version: m[1], commit: m[2] ?? null };
}

async function builtVersion(bundle: string, env: NodeJS.ProcessEnv = envWithoutHostname()): Promise<string> {
  return (await execa(process.execPath, [bundle, "--version"], { env, extendEnv: false })).stdout;
}

describe("hail --version", () => {
  it("is package.json's version and, built in this git checkout, a commit of it", async () => {
    const { version, commit } = parseVersion(await builtVersion(HAIL_BIN));
    assert.equal(version, VERSION);
    const isCheckout = (await execa("git", ["-C", REPO, "rev-parse", "--show-toplevel"], { reject: false })).exitCode === 0;
    if (!isCheckout) return assert.equal(commit, null);
    assert.ok(commit !== null, "built in a git checkout, the version names its commit");
    const sha = commit.replace(/-dirty$/, "");
    const known = await execa("git", ["-C", REPO, "rev-parse", "--verify", "--quiet", `${sha}^{commit}`], { reject: false });
    assert.equal(known.exitCode, 0, `${sha} is not a commit of ${REPO}`);
  });

  describe("bundled where there is no commit to name", () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), "hail-build-info-"));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("a source tree without .git of its own (as Nix builds it), even inside another repository, gives the version alone", async () => {
      // someone's own repository, with a commit, that the source was unpacked into
      const git = (...args: string[]) => execa("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args]);
      await git("init", "--quiet");
      await git("commit", "--quiet", "--allow-empty", "-m", "not hail");
      const tree = path.join(dir, "source");
      for (const entry of ["package.json", "tsconfig.json", "src"]) await cp(path.join(REPO, entry), path.join(tree, entry), { recursive: true });
      await symlink(path.join(REPO, "node_modules"), path.join(tree, "node_modules"));
      const out = path.join(dir, "from-source.mjs");
      await execa(process.execPath, ["src/build/bundle.mjs", `--outfile=${out}`], { cwd: tree, env: envWithoutHostname(), extendEnv: false });
      assert.equal(await builtVersion(out), VERSION);
    });

    it("a checkout bundled where git is not installed (a Nix sandbox) gives the version alone", async () => {
      const out = path.join(dir, "without-git.mjs");
      const env = { ...envWithoutHostname(), PATH: path.dirname(process.execPath) };
      assert.notEqual((await execa("git", ["--version"], { env, extendEnv: false, reject: false })).exitCode, 0, "git is off PATH");
      await execa(process.execPath, ["src/build/bundle.mjs", `--outfile=${out}`], { cwd: REPO, env, extendEnv: false });
      assert.equal(await builtVersion(out), VERSION);
    });
  });
});

describe("the JSON logs' _meta", () => {
  let hydra: HydraTestServer;
  before(async () => {
    hydra = await HydraTestServer.start();
    hydra.addJobset("myproject", "main");
  });
  after(async () => {
    await hydra.close();
  });

  it("names the host by os.hostname() with HOSTNAME unset, hail's version and commit, and the Node.js (24 or newer) that runs it", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "hail-build-info-log-"));
    try {
      const r = await execa(process.execPath, [HAIL_BIN, "plan", "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp",
        "--profile", "myapp", "--profiles-dir", dir, "--state-dir", dir, "--log-format", "json"], { env: envWithoutHostname(), extendEnv: false, reject: false });
      const line = r.stderr.split("\n").find((l) => l.startsWith("{"));
      assert.ok(line, `no JSON log line; stderr:\n${r.stderr}`);
      const meta = (JSON.parse(line) as { _meta: Record<string, unknown> })._meta;
      const { version, commit } = parseVersion(await builtVersion(HAIL_BIN));
      assert.deepEqual(
        { hostname: meta.hostname, version: meta.version, commit: meta.commit, nodejs: meta.nodejs },
        { hostname: os.hostname(), version, commit, nodejs: process.version },
      );
      assert.ok(Number(/^v(\d+)\./.exec(String(meta.nodejs))?.[1]) >= 24, `the built CLI ran on ${String(meta.nodejs)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("hail_build_info", () => {
  let w: World;
  before(async () => {
    ({ world: w } = await worldAtGreenGate("1.0"));
  });
  after(async () => {
    await w.close();
  });

  it("a one-shot's metrics file carries hail's version and commit and the Node.js (24 or newer) that ran it", async () => {
    const metricsFile = path.join(w.lab.root, "metrics", "hail.prom");
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--metrics-file", metricsFile]);
    assert.equal(r.code, 0, r.stderr);
    const lines = (await readFile(metricsFile, "utf8")).split("\n").filter((l) => l.startsWith("hail_build_info{"));
    const { version, commit } = parseVersion(await builtVersion(HAIL_BIN));
    assert.deepEqual(lines, [`hail_build_info{profile="myapp",version="${version}",commit="${commit ?? ""}",nodejs="${process.version}"} 1`]);
    assert.ok(Number(/^v(\d+)\./.exec(process.version)?.[1]) >= 24, `the suite runs on ${process.version}`);
  });
});
