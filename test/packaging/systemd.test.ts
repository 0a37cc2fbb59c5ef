// The systemd units in nix/systemd: they pass `systemd-analyze verify`, carry the hardening
// and lifecycle settings the README promises, and their command lines really start hail with
// the exit codes and signals the units rely on (RestartPreventExitStatus=64,
// SuccessExitStatus=75, ExecReload's SIGUSR1, KillSignal's SIGTERM).
//
// `systemd-analyze verify` checks that ExecStart='s program exists, and /usr/local/bin/hail is
// not installed here: the copies under test point ExecStart= at a stub executable in a temp
// directory instead; nothing else in the files changes. The templates are copied as they are
// (hail@.service) and verified under instance names (hail@myapp.service), which makes
// systemd-analyze instantiate them as systemd would.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  REPO,
  UNIT_DIR,
  expandSpecifiers,
  parseEnvironmentFile,
  parseUnit,
  splitCommandLine,
  tempDir,
  value,
  values,
  verifyUnits,
  type Unit,
} from "./unit-file.js";

const INSTALLED_HAIL = "/usr/local/bin/hail";
/** the node flags the daemon runs with, and only the daemon (see test "the daemon, and only the daemon, …") */
const DAEMON_NODE_FLAGS = (JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { daemonNodeFlags: string[] }).daemonNodeFlags;
const UNIT_FILES = ["hail@.service", "hail-oneshot@.service", "hail-oneshot@.timer"];

async function readUnitText(name: string): Promise<string> {
  return readFile(path.join(UNIT_DIR, name), "utf8");
}

async function readUnit(name: string): Promise<Unit> {
  return parseUnit(await readUnitText(name));
}

/** copies of the unit files with ExecStart= pointing at an executable stub; returns the dir */
async function stagedUnits(root: string, edit: (name: string, text: string) => string = (_, t) => t): Promise<string> {
  const stub = path.join(root, "bin", "hail");
  await mkdir(path.dirname(stub), { recursive: true });
  await writeFile(stub, "#!/bin/sh\nexit 0\n");
  await chmod(stub, 0o755);
  const dir = path.join(root, "units");
  await mkdir(dir, { recursive: true });
  for (const name of UNIT_FILES) {
    const text = await readUnitText(name);
    await writeFile(path.join(dir, name), edit(name, text.replaceAll(`${INSTALLED_HAIL} `, `${stub} `)));
  }
  return dir;
}

const INSTANCES = ["hail@myapp.service", "hail@my-app.service", "hail-oneshot@myapp.service", "hail-oneshot@myapp.timer"];

describe("systemd-analyze verify", () => {
  let root: string;
  before(async () => {
    root = await tempDir("hail-units-");
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("accepts the daemon, the one-shot and the timer, instantiated, without a complaint", async () => {
    const dir = await stagedUnits(path.join(root, "ok"));
    const r = await verifyUnits(dir, INSTANCES);
    assert.deepEqual(r.complaints, [], r.stderr);
    assert.equal(r.code, 0, r.stderr);
  });

  it("would report a misspelt directive (the check above has teeth)", async () => {
    const dir = await stagedUnits(path.join(root, "typo"), (name, text) =>
      name === "hail@.service" ? text.replace("ProtectSystem=full", "ProtectSytem=full") : text,
    );
    const r = await verifyUnits(dir, ["hail@myapp.service"]);
    assert.ok(r.complaints.some((l) => /Unknown key/i.test(l) && l.includes("ProtectSytem")), r.stderr);
  });

  it("would fail on an ExecStart= program that does not exist", async () => {
    const dir = await stagedUnits(path.join(root, "missing"), (_, text) => text.replaceAll(/^ExecStart=\S+/gm, "ExecStart=/nonexistent/hail"));
    const r = await verifyUnits(dir, ["hail-oneshot@myapp.service"]);
    assert.notEqual(r.code, 0);
    assert.ok(r.complaints.some((l) => l.includes("/nonexistent/hail")), r.stderr);
  });
});

const HARDENING: Array<[string, string]> = [
  ["NoNewPrivileges", "yes"],
  ["ProtectSystem", "full"],
  ["ProtectHome", "read-only"],
  ["PrivateTmp", "yes"],
  ["StateDirectory", "hail"],
  ["CacheDirectory", "hail"],
  ["KillMode", "mixed"],
];

/** minutes in a systemd time span like "25min" or "1h" (only the forms the units use) */
function minutes(span: string): number {
  const m = /^(\d+)(min|h|s)$/.exec(span);
  assert.ok(m, `time span ${span}`);
  const n = Number(m[1]);
  return m[2] === "h" ? n * 60 : m[2] === "min" ? n : n / 60;
}

describe("unit settings", () => {
  it("both services are hardened alike and keep their state in /var/lib/hail", async () => {
    for (const name of ["hail@.service", "hail-oneshot@.service"]) {
      const unit = await readUnit(name);
      for (const [key, expected] of HARDENING) assert.equal(value(unit, "Service", key), expected, `${name} ${key}`);
      assert.equal(values(unit, "Service", "EnvironmentFile")[0], "/etc/hail/%i.env", name);
      assert.ok(values(unit, "Service", "Environment").includes("XDG_CACHE_HOME=%C/hail"), name);
      assert.match(value(unit, "Service", "ExecStart"), /(^| )\/usr\/local\/bin\/hail run .*--profile %i --state-dir %S\/hail \$HAIL_ARGS$/, name);
    }
    // the one-shot says "identical to hail@.service": every sandboxing directive, same value
    const sandbox = (u: Unit) =>
      (u.get("Service") ?? []).filter(([k]) => /^(No|Protect|Private|Restrict|Lock|ReadWrite|State|Cache)/.test(k)).map((kv) => kv.join("=")).sort();
    assert.deepEqual(sandbox(await readUnit("hail-oneshot@.service")), sandbox(await readUnit("hail@.service")));
  });

  it("the daemon, and only the daemon, starts node with package.json's daemonNodeFlags", async () => {
    assert.ok(DAEMON_NODE_FLAGS.length > 0 && DAEMON_NODE_FLAGS.every((f) => f.startsWith("--")), DAEMON_NODE_FLAGS.join(" "));
    const daemon = splitCommandLine(value(await readUnit("hail@.service"), "Service", "ExecStart"), {});
    assert.deepEqual(daemon.slice(0, daemon.indexOf(INSTALLED_HAIL)), ["/usr/bin/env", "node", ...DAEMON_NODE_FLAGS]);
    // a one-shot starts often and briefly: any V8 flag would cost it node's code cache
    const oneshot = splitCommandLine(value(await readUnit("hail-oneshot@.service"), "Service", "ExecStart"), {});
    assert.deepEqual(oneshot.slice(0, oneshot.indexOf(INSTALLED_HAIL)), ["/usr/bin/env", "node"]);
    // and the bundle itself starts without flags: its shebang names node alone
    const shebang = readFileSync(path.join(REPO, "src/cli/main.ts"), "utf8").split("\n", 1)[0];
    assert.equal(shebang, "#!/usr/bin/env node");
  });

  it("the daemon never starts node with --disable-sigusr1, which would swallow ExecReload='s SIGUSR1, and asks node nothing before it starts", async () => {
    const unit = await readUnit("hail@.service");
    const argv = splitCommandLine(value(unit, "Service", "ExecStart"), {});
    assert.ok(!argv.some((a) => /^--(no-)?disable[-_]sigusr1/.test(a) || a.includes("HAIL_NODE_FLAGS")), argv.join(" "));
    assert.deepEqual(values(unit, "Service", "ExecStartPre"), []);
    assert.deepEqual(values(unit, "Service", "RuntimeDirectory"), []);
    assert.deepEqual(values(unit, "Service", "EnvironmentFile"), ["/etc/hail/%i.env"], "the profile's file and no node-flags file");
    assert.ok(!values(unit, "Service", "Environment").some((e) => e.startsWith("NODE_OPTIONS=")), "nor through NODE_OPTIONS");
  });

  it("the one-shot: node gets --disable-sigusr1 exactly when the node on the unit's PATH accepts it (SIGUSR1 means nothing to a one-shot)", async () => {
    const unit = await readUnit("hail-oneshot@.service");
    const root = await tempDir("hail-node-flags-");
    try {
      // a node that has the option (as 22.14+), one that refuses it (as 20: exit 9), and this machine's
      const stub = async (dirName: string, accepts: boolean) => {
        const dir = path.join(root, dirName);
        await mkdir(dir);
        await writeFile(path.join(dir, "node"), `#!/bin/sh\n[ "$1" = --disable-sigusr1 ] && exit ${accepts ? 0 : 9}\nexit 0\n`);
        await chmod(path.join(dir, "node"), 0o755);
        return dir;
      };
      const here = spawnSync(process.execPath, ["--disable-sigusr1", "-e", "0"]).status === 0;
      const nodes: Array<[string, boolean]> = [[await stub("new", true), true], [await stub("old", false), false], [path.dirname(process.execPath), here]];
      for (const [nodeDir, accepts] of nodes) {
        const { argv } = await unitCommand(unit, path.join(root, "run"), "", `${nodeDir}:/usr/bin:/bin`);
        assert.deepEqual(argv.slice(0, 2), ["/usr/bin/env", "node"]);
        assert.equal(argv[2] === "--disable-sigusr1", accepts, `${nodeDir}: ${argv.join(" ")}`);
        assert.equal(argv.filter((a) => a === "--disable-sigusr1").length, accepts ? 1 : 0, argv.join(" "));
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("node accepts every one of daemonNodeFlags (a misspelt V8 flag stops the daemon from starting)", () => {
    const run = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, "-e", "0"], { encoding: "utf8", env: { PATH: process.env["PATH"] ?? "" } });
    assert.equal(run.status, 0, `node ${DAEMON_NODE_FLAGS.join(" ")} -e 0: ${run.stderr}`);
    assert.equal(run.stderr, "");
  });

  it("the daemon restarts on failure but not on a configuration error, reloads with SIGUSR1 and lets an activation finish", async () => {
    const unit = await readUnit("hail@.service");
    assert.equal(value(unit, "Service", "Type"), "simple");
    assert.equal(value(unit, "Service", "Restart"), "on-failure");
    assert.equal(value(unit, "Service", "RestartPreventExitStatus"), "64");
    assert.equal(value(unit, "Service", "ExecReload"), "/bin/kill -USR1 $MAINPID");
    assert.equal(value(unit, "Service", "KillSignal"), "SIGTERM");
    // an activation (--activate-timeout 10m) and the rollback's activation (10m) fit
    assert.ok(minutes(value(unit, "Service", "TimeoutStopSec")) > 2 * 10);
    assert.deepEqual(values(unit, "Install", "WantedBy"), ["multi-user.target"]);
  });

  it("the one-shot counts 75 (nothing deployable yet, locked) as success and nothing else", async () => {
    const unit = await readUnit("hail-oneshot@.service");
    assert.equal(value(unit, "Service", "Type"), "oneshot");
    assert.match(value(unit, "Service", "ExecStart"), / --oneshot /);
    assert.deepEqual(value(unit, "Service", "SuccessExitStatus").split(/\s+/), ["75"]);
    assert.ok(minutes(value(unit, "Service", "TimeoutStartSec")) >= 20, "a pass may take two activations");
  });

  it("the timer runs the one-shot every five minutes with fleet jitter, starting after boot", async () => {
    const unit = await readUnit("hail-oneshot@.timer");
    assert.equal(value(unit, "Timer", "OnUnitActiveSec"), "5min");
    assert.ok(minutes(value(unit, "Timer", "RandomizedDelaySec")) > 0);
    assert.ok(minutes(value(unit, "Timer", "OnBootSec")) > 0, "OnUnitActiveSec= alone never fires first");
    assert.equal(value(unit, "Timer", "Unit"), "hail-oneshot@%i.service");
    assert.deepEqual(values(unit, "Install", "WantedBy"), ["timers.target"]);
  });
});

/** a Hydra that knows no builds: every request is a 404, which hail reads as "not ready" */
async function emptyHydra(): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "no such build" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests };
}

interface Started {
  child: ReturnType<typeof spawn>;
  stderr: () => string;
  exit: Promise<number | null>;
}

/**
 * A unit's ExecStart= for instance `myapp` as systemd would run it, with the state and cache
 * roots (%S, %C) in DIR: ExecStartPre=, if any, first, in the unit's runtime directory under
 * DIR (with PATH as given), then every EnvironmentFile= in order
 * (/etc/hail/myapp.env being ENV_FILE_TEXT; a "-" file may be missing), then the expansion.
 */
async function unitCommand(unit: Unit, dir: string, envFileText: string, PATH = process.env["PATH"] ?? ""): Promise<{ argv: string[] }> {
  const spec = { i: "myapp", S: path.join(dir, "state"), C: path.join(dir, "cache"), t: path.join(dir, "run") };
  const runtimeDirs = values(unit, "Service", "RuntimeDirectory");
  const runtimeDir = path.join(spec.t, expandSpecifiers(runtimeDirs[0] ?? "", spec));
  if (runtimeDirs.length > 0) await mkdir(runtimeDir, { recursive: true });
  for (const line of values(unit, "Service", "ExecStartPre")) {
    const pre = splitCommandLine(expandSpecifiers(line, spec), {});
    const ran = spawnSync(pre[0] as string, pre.slice(1), { encoding: "utf8", env: { PATH, RUNTIME_DIRECTORY: runtimeDir } });
    assert.equal(ran.status, 0, `ExecStartPre: ${ran.stderr}`);
  }
  const files = values(unit, "Service", "EnvironmentFile").map((f) => expandSpecifiers(f, spec));
  assert.equal(files[0], "/etc/hail/myapp.env");
  const env = parseEnvironmentFile(envFileText);
  for (const file of files.slice(1)) {
    assert.ok(file.startsWith(`-${runtimeDir}/`), `${file}: optional, in the runtime directory ExecStartPre= writes`);
    Object.assign(env, parseEnvironmentFile(await readFile(file.slice(1), "utf8")));
  }
  return { argv: splitCommandLine(expandSpecifiers(value(unit, "Service", "ExecStart"), spec), env) };
}

/**
 * Runs a unit's ExecStart= (see unitCommand) with HAIL_ARGS from ENV_FILE_TEXT.
 * /usr/local/bin/hail is the hail CLI from source (node --import tsx src/cli/main.ts): what
 * `npm run build` bundles.
 */
async function startFromUnit(unitName: string, dir: string, envFileText: string): Promise<Started> {
  const unit = await readUnit(unitName);
  const { argv } = await unitCommand(unit, dir, envFileText);
  // the daemon's unit runs `/usr/bin/env node FLAGS /usr/local/bin/hail …`: node gets the same flags here
  const at = argv.indexOf(INSTALLED_HAIL);
  assert.ok(at === 0 || (at > 1 && argv[0] === "/usr/bin/env" && argv[1] === "node"), argv.join(" "));
  const nodeFlags = argv.slice(2, Math.max(2, at));
  const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
  const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", path.join(REPO, "src/cli/main.ts"), ...argv.slice(at + 1)], {
    cwd: REPO,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout?.resume();
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function waitFor(started: Started, re: RegExp, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(started.stderr())) {
    if (started.child.exitCode !== null) throw new Error(`hail exited (${started.child.exitCode}) before ${what}:\n${started.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${started.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the units' command lines start hail", () => {
  let root: string;
  let hydra: Awaited<ReturnType<typeof emptyHydra>>;
  before(async () => {
    root = await tempDir("hail-unit-run-");
    hydra = await emptyHydra();
  });
  after(async () => {
    hydra.server.close();
    await rm(root, { recursive: true, force: true });
  });

  const envFile = (dir: string) =>
    `# /etc/hail/myapp.env\nHAIL_ARGS=--gate-job ${hydra.url}/job/proj/main/release_gate --constituent myapp --profiles-dir ${path.join(dir, "profiles")} --timeout 5s\n`;

  it("the one-shot exits 75 while Hydra has no finished build, which SuccessExitStatus= counts as success", async () => {
    const dir = path.join(root, "oneshot");
    const run = await startFromUnit("hail-oneshot@.service", dir, envFile(dir));
    const code = await run.exit;
    assert.equal(code, 75, run.stderr());
    assert.ok(hydra.requests.some((u) => u.startsWith("/job/proj/main/release_gate/latest-finished")), hydra.requests.join(" "));
    const unit = await readUnit("hail-oneshot@.service");
    assert.ok(value(unit, "Service", "SuccessExitStatus").split(/\s+/).includes(String(code)));
  });

  it("the daemon without a target exits 64, the status RestartPreventExitStatus= stops restarts for", async () => {
    const dir = path.join(root, "no-target");
    const run = await startFromUnit("hail@.service", dir, "HAIL_ARGS=\n");
    const code = await run.exit;
    assert.equal(code, 64, run.stderr());
    assert.match(run.stderr(), /no target/);
    assert.equal(value(await readUnit("hail@.service"), "Service", "RestartPreventExitStatus"), String(code));
  });

  it("the daemon polls on ExecReload='s signal and stops cleanly on KillSignal=", async () => {
    const dir = path.join(root, "daemon");
    const unit = await readUnit("hail@.service");
    const reload = /^\/bin\/kill -(\w+) \$MAINPID$/.exec(value(unit, "Service", "ExecReload"));
    assert.ok(reload);
    const reloadSignal = `SIG${reload[1]}` as NodeJS.Signals;
    const stopSignal = value(unit, "Service", "KillSignal") as NodeJS.Signals;

    const run = await startFromUnit("hail@.service", dir, envFile(dir));
    try {
      await waitFor(run, /hail started/, "the daemon to start");
      await waitFor(run, /latest-finished|not ready|no .*build/i, "the first pass");
      const before = hydra.requests.length;
      run.child.kill(reloadSignal);
      await waitFor(run, /received SIGUSR1: polling now/, "the reload signal to be handled");
      const deadline = Date.now() + 20_000;
      while (hydra.requests.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(hydra.requests.length > before, "the reload made the daemon poll Hydra again");
      run.child.kill(stopSignal);
      assert.equal(await run.exit, 0, run.stderr());
      assert.match(run.stderr(), /hail stopped/);
    } finally {
      if (run.child.exitCode === null) run.child.kill("SIGKILL");
    }
  });
});
