// What the built CLI loads: Node 20's fetch (undici, with its WebAssembly HTTP parser) costs a
// one-shot start tens of milliseconds and a daemon memory, and hail carries its requests on
// node:http, so the bundle must not load undici at all (npm run bench measures the time).
// Nor may a command load Node built-ins it has no use for: each one costs every start.
import assert from "node:assert/strict";
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { HAIL_BIN } from "../support/cli.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { greenGate } from "./world.js";

const APP_PATH = "/nix/store/7xk3w8lbc6r1hzz4q3f0d4c9m2i5y1a0-myapp-1.0";
/** Preloaded with --import: on exit, prints the internal modules Node loaded. */
const PROBE = `process.on("exit", () => process.stderr.write("loaded modules: " + JSON.stringify(process.moduleLoadList) + "\\n"));\n`;
/**
 * Built-ins `hail plan` against an http:// Hydra does not use: https (with tls and crypto),
 * zlib (only for compressed answers), child_process and what execa loads (plan starts no process).
 */
const NOT_FOR_PLAN = ["https", "tls", "crypto", "zlib", "child_process", "tty", "v8"];

describe("what the bundle loads", () => {
  let hydra: HydraTestServer;
  let dir: string;
  let probe: string;

  before(async () => {
    hydra = await HydraTestServer.start();
    for (const b of greenGate(100, 10, APP_PATH)) hydra.addBuild(b);
    dir = await mkdtemp(path.join(os.tmpdir(), "hail-startup-"));
    probe = path.join(dir, "probe.mjs");
    await writeFile(probe, PROBE);
    await symlink(APP_PATH, path.join(dir, "current"));
  });
  after(async () => {
    await hydra.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the bundle with the probe; returns stdout, the undici modules and the built-ins it saw loaded. */
  async function run(args: string[]): Promise<{ code: number | undefined; stdout: string; undici: string[]; builtins: string[] }> {
    const { NODE_OPTIONS: _o, NODE_TEST_CONTEXT: _t, ...env } = process.env;
    const r = await execa(process.execPath, ["--import", probe, HAIL_BIN, ...args], {
      env: { ...env, HOME: dir, XDG_CONFIG_HOME: dir, NIX_CONF_DIR: dir, NIX_CONFIG: `substituters = ${hydra.url}` },
      extendEnv: false, reject: false, stdin: "ignore",
    });
    const line = /^loaded modules: (.*)$/m.exec(r.stderr);
    assert.ok(line?.[1], `the probe printed nothing; stderr:\n${r.stderr}`);
    const loaded = JSON.parse(line[1]) as string[];
    const builtins = loaded.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice("NativeModule ".length));
    return { code: r.exitCode, stdout: r.stdout, undici: loaded.filter((m) => m.includes("undici")), builtins };
  }

  it("the probe sees undici when something loads it", async () => {
    const { NODE_OPTIONS: _o, NODE_TEST_CONTEXT: _t, ...env } = process.env;
    const r = await execa(process.execPath, ["--import", probe, "-e", "new Headers()"], { env, extendEnv: false, reject: false });
    assert.match(r.stderr, /loaded modules: \[.*undici/);
  });

  it("the probe sees the built-ins a command loads", async () => {
    const r = await run(["plan", "--gate-job", `${hydra.url.replace("http:", "https:")}/job/myproject/main/release_gate`, "--constituent", "myapp",
      "--profile", "current", "--profiles-dir", dir, "--state-dir", dir, "--json"]);
    // an https Hydra (here the http test server, so the handshake fails) loads https, tls and crypto
    assert.deepEqual(NOT_FOR_PLAN.filter((m) => r.builtins.includes(m)).slice(0, 3), ["https", "tls", "crypto"], r.builtins.join(" "));
  });

  it("hail plan --json asks Hydra, answers, and loads neither undici nor built-ins it does not use", async () => {
    const gate = `${hydra.url}/job/myproject/main/release_gate`;
    for (const profile of ["current", "absent"]) {
      const r = await run(["plan", "--gate-job", gate, "--constituent", "myapp", "--profile", profile, "--profiles-dir", dir, "--state-dir", dir, "--json"]);
      assert.equal(r.code, 0, r.stdout);
      assert.equal((JSON.parse(r.stdout) as { action: string }).action, profile === "current" ? "none" : "deploy");
      assert.deepEqual(r.undici, [], `${profile}: undici was loaded`);
      assert.deepEqual(NOT_FOR_PLAN.filter((m) => r.builtins.includes(m)), [], `${profile}: built-ins plan does not need`);
    }
  });

  it("the bundle makes no Intl object: the first one pages in ICU's data, about 6 MiB a daemon would hold", async () => {
    assert.doesNotMatch(await readFile(HAIL_BIN, "utf8"), /\bIntl\.[A-Z]/);
  });

  it("hail --help never loads undici", async () => {
    const r = await run(["--help"]);
    assert.match(r.stdout, /Usage: hail/);
    assert.deepEqual(r.undici, []);
  });
});

// V8's code cache (src/compile-cache.ts): saved at the exit of a command, used by the next run
// of the same command, and never read from where another user could have written it.
describe("the code cache", () => {
  let hydra: HydraTestServer;
  let dir: string;

  before(async () => {
    hydra = await HydraTestServer.start();
    for (const b of greenGate(100, 10, APP_PATH)) hydra.addBuild(b);
    dir = await mkdtemp(path.join(os.tmpdir(), "hail-code-cache-"));
    await symlink(APP_PATH, path.join(dir, "current"));
  });
  after(async () => {
    await hydra.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** `hail plan --json` (up to date) with the cache under `xdgCache`; asserts that it answered, and said nothing else. */
  async function plan(xdgCache: string): Promise<void> {
    const { NODE_OPTIONS: _o, NODE_TEST_CONTEXT: _t, CACHE_DIRECTORY: _c, ...env } = process.env;
    const r = await execa(process.execPath, [HAIL_BIN, "plan", "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp",
      "--profile", "current", "--profiles-dir", dir, "--state-dir", dir, "--json"], {
      env: { ...env, HOME: dir, XDG_CACHE_HOME: xdgCache, NIX_CONF_DIR: dir, NIX_CONFIG: `substituters = ${hydra.url}` },
      extendEnv: false, reject: false, stdin: "ignore",
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { action: string }).action, "none");
    // a cache that cannot be written is no error: not a word on stderr (Node prints one thrown at exit, and still exits 0)
    assert.equal(r.stderr, "");
  }
  const cacheFiles = async (cacheDir: string) => (await readdir(cacheDir).catch(() => [] as string[])).filter((f) => f.endsWith(".v8cache"));

  it("the first run saves the cache, 0600 in a 0700 directory; the next run uses it and leaves it as it is", async () => {
    const xdg = await mkdtemp(path.join(dir, "xdg-"));
    await plan(xdg);
    const cacheDir = path.join(xdg, "hail");
    const [name, ...more] = await cacheFiles(cacheDir);
    assert.ok(name !== undefined && more.length === 0, `one cache file, got ${[name, ...more].join(" ")}`);
    assert.match(name, /^[0-9a-f]{16}-plan-[0-9a-f]{8}\.v8cache$/);
    assert.equal((await stat(cacheDir)).mode & 0o777, 0o700);
    const first = await stat(path.join(cacheDir, name));
    assert.equal(first.mode & 0o777, 0o600);
    await plan(xdg);
    const second = await stat(path.join(cacheDir, name));
    // a cache V8 refused, or none read, would be written again: a new file (rename) and time
    assert.deepEqual([second.ino, second.mtimeMs], [first.ino, first.mtimeMs], "the cache was written again: V8 did not take it, or it was not read");
  });

  it("a cache V8 refuses (not its bytecode) costs nothing but its replacement", async () => {
    const xdg = await mkdtemp(path.join(dir, "xdg-"));
    await plan(xdg);
    const cacheDir = path.join(xdg, "hail");
    const [name] = await cacheFiles(cacheDir);
    assert.ok(name !== undefined);
    await writeFile(path.join(cacheDir, name), "not V8's bytecode", { mode: 0o600 });
    await plan(xdg);
    assert.notEqual(await readFile(path.join(cacheDir, name), "utf8"), "not V8's bytecode");
  });

  it("a cache file another user owns is not read (it is replaced by hail's own)", async () => {
    const xdg = await mkdtemp(path.join(dir, "xdg-"));
    await plan(xdg);
    const cacheDir = path.join(xdg, "hail");
    const [name] = await cacheFiles(cacheDir);
    assert.ok(name !== undefined);
    // still valid bytecode, that V8 would take and hail would then leave alone
    await chown(path.join(cacheDir, name), 65534, 65534);
    await plan(xdg);
    assert.equal((await stat(path.join(cacheDir, name))).uid, process.getuid?.(), "hail read the other user's cache");
  });

  it("a cache directory others can write, or one below such a directory, is neither read nor written", async () => {
    const open = await mkdtemp(path.join(dir, "open-"));
    await mkdir(path.join(open, "hail"), { mode: 0o700 });
    await chmod(path.join(open, "hail"), 0o777);
    await plan(open);
    assert.deepEqual(await cacheFiles(path.join(open, "hail")), []);
    const openParent = await mkdtemp(path.join(dir, "open-parent-"));
    await chmod(openParent, 0o777);
    await plan(path.join(openParent, "xdg"));
    assert.deepEqual(await cacheFiles(path.join(openParent, "xdg", "hail")), []);
  });

  it("nothing is made below a directory another user owns (sudo keeps that user's HOME)", async () => {
    const home = await mkdtemp(path.join(dir, "user-home-"));
    await chown(home, 65534, 65534);
    await plan(path.join(home, ".cache"));
    assert.deepEqual(await readdir(home), [], "root left a directory in the user's home");
  });

  it("a cache directory that cannot be made or is no directory never fails a command", async () => {
    await plan("/proc/hail-cache");
    const file = path.join(dir, "a-file");
    await writeFile(file, "");
    await plan(file);
  });
});
