// An operator's mistakes and a broken environment, against the built CLI (issue 22, point 9;
// SPEC sections 3 and 9): each case gets its exit code and ends stderr with one plain line,
// `hail: <what failed>: <why> (<hint>)`, and writes no state file and no profile link. One
// table; the cases that need more than a command line (a Hydra that holds its answer, a signal)
// follow it, and the behaviour around the table (hold --new, --config targets) last.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { HAIL_BIN, type HailRun } from "../support/cli.js";
import { runHailIn, SAFETY_TIMEOUT_MS } from "./ended.js";
import type { World } from "./world.js";
import { createWorld, greenGate, publishedApps, waitUntil, worldAtGreenGate } from "./world.js";

let w: World;
/** a directory of its own for each case that needs files, and the cwd of every run */
let scratch: string;
let n = 0;

before(async () => {
  ({ world: w } = await worldAtGreenGate("1"));
  const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
  assert.equal(r.code, 0, r.stderr);
  scratch = await mkdtemp(path.join(w.lab.root, "scratch-"));
});
after(() => w.close());

/**
 * Everything a command could have written: every entry under the state and profiles dirs, with
 * its content or link target. With `bookkeeping` false, a state file's `lastError` and
 * `metrics` are left out: a one-shot that reached Hydra records its error there, for status
 * and for the counters of --metrics-file, which go on across runs.
 */
async function written(bookkeeping = true): Promise<string[]> {
  return [...(await tree(w.stateDir, "state", bookkeeping)), ...(await tree(w.lab.profilesDir, "profiles", bookkeeping))].sort();
}

async function tree(dir: string, label: string, bookkeeping: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const at = path.join(dir, entry.name);
    const name = `${label}/${entry.name}`;
    if (entry.isSymbolicLink()) out.push(`${name} -> ${await readlink(at)}`);
    else if (entry.isDirectory()) out.push(`${name}/`, ...(await tree(at, name, bookkeeping)));
    else out.push(`${name} ${createHash("sha256").update(bookkeeping ? await readFile(at) : withoutBookkeeping(entry.name, await readFile(at, "utf8"))).digest("hex")}`);
  }
  return out;
}

function withoutBookkeeping(name: string, text: string): string {
  if (!name.endsWith(".json")) return text;
  const { metrics: _counted, lastError: _recorded, ...rest } = JSON.parse(text) as Record<string, unknown>;
  return JSON.stringify(rest);
}

/** The last line of stderr: the one an operator (or a cron mail) reads first. */
function lastLine(stderr: string): string {
  return stderr.trimEnd().split("\n").at(-1) ?? "";
}

/** A fresh path in the scratch dir (made as a file or directory by the case, or left absent). */
const fresh = (name: string) => path.join(scratch, `${name}-${++n}`);

async function configFile(body: unknown): Promise<string> {
  const file = fresh("hail.json");
  await writeFile(file, typeof body === "string" ? body : JSON.stringify(body));
  return file;
}

interface Mistake {
  title: string;
  /** the command line; may prepare files it names first */
  args: () => string[] | Promise<string[]>;
  code: number;
  /** matched against the last line of stderr */
  line: RegExp;
  /** hail reached Hydra for the profile: its state records the error (lastError, metrics), nothing else */
  recordsError?: true;
}

const gate = () => ["--gate-job", w.gateUrl, "--constituent", "myapp"];
const lab = () => ["--profiles-dir", w.lab.profilesDir, "--state-dir", w.stateDir, "--log-format", "json"];
/** a command with the lab's dirs, typed the way an operator types them */
const manage = (...words: string[]) => [...words, ...w.manageArgs()];

const MISTAKES: Mistake[] = [
  // typos in every command
  { title: "hail deplyo", args: () => manage("deplyo"), code: 64, line: /^hail: unknown command 'deplyo' \(did you mean deploy\? run hail --help for usage\)$/ },
  { title: "hail rnu --oneshot", args: () => ["rnu", ...gate(), "--profile", "myapp", "--oneshot", ...lab()], code: 64, line: /^hail: unknown command 'rnu' \(did you mean run\?/ },
  { title: "hail plna", args: () => ["plna", ...gate()], code: 64, line: /^hail: unknown command 'plna' \(did you mean plan\?/ },
  { title: "hail stauts myapp", args: () => manage("stauts", "myapp"), code: 64, line: /^hail: unknown command 'stauts' \(did you mean status\?/ },
  { title: "hail hlod myapp", args: () => manage("hlod", "myapp"), code: 64, line: /^hail: unknown command 'hlod' \(did you mean hold\?/ },
  { title: "hail relase myapp", args: () => manage("relase", "myapp"), code: 64, line: /^hail: unknown command 'relase' \(did you mean release\?/ },
  { title: "hail help deplyo", args: () => ["help", "deplyo"], code: 64, line: /^hail: unknown command 'deplyo' \(did you mean deploy\?/ },
  { title: "bare hail", args: () => [], code: 64, line: /^hail: no command given \(run hail --help for the commands\)$/ },
  // typos in options
  { title: "hail plan --gate-jbo", args: () => ["plan", "--gate-jbo", w.gateUrl, "--constituent", "myapp", "--profile", "myapp", ...lab()], code: 64, line: /^hail: unknown option '--gate-jbo' \(did you mean --gate-job\? run hail plan --help for usage\)$/ },
  { title: "hail hold --stat-dir", args: () => ["hold", "myapp", "--stat-dir", w.stateDir], code: 64, line: /^hail: unknown option '--stat-dir' \(did you mean --state-dir\? run hail hold --help for usage\)$/ },
  { title: "hail --oneshot --profiles-dri (options first: run)", args: () => [...gate(), "--profile", "myapp", "--oneshot", "--profiles-dri", w.lab.profilesDir], code: 64, line: /^hail: unknown option '--profiles-dri' \(did you mean --profiles-dir\? run hail run --help/ },
  { title: "hail run --one-shot", args: () => ["run", ...gate(), "--profile", "myapp", "--one-shot", ...lab()], code: 64, line: /^hail: unknown option '--one-shot' \(did you mean --oneshot\?/ },
  { title: "hail status --jsno", args: () => manage("status", "myapp", "--jsno"), code: 64, line: /^hail: unknown option '--jsno' \(did you mean --json\?/ },
  { title: "hail release --clear-faild", args: () => manage("release", "myapp", "--clear-faild"), code: 64, line: /^hail: unknown option '--clear-faild' \(did you mean --clear-failed\?/ },
  { title: "hail hold --state-dir without its value", args: () => ["hold", "myapp", "--state-dir"], code: 64, line: /^hail: option '--state-dir <dir>' argument missing \(run hail hold --help for usage\)$/ },
  // each command without its required options
  { title: "hail run --oneshot without a target or profile", args: () => ["run", "--oneshot", ...lab()], code: 64, line: /^hail: --profile is required: the Nix profile to deploy to$/ },
  { title: "hail plan without a target", args: () => ["plan", "--profile", "myapp", ...lab()], code: 64, line: /^hail: no target: give --gate-job URL --constituent NAME, or --job-uri URL$/ },
  { title: "hail plan --gate-job without --constituent", args: () => ["plan", "--gate-job", w.gateUrl, "--profile", "myapp", ...lab()], code: 64, line: /^hail: --gate-job needs --constituent NAME/ },
  { title: "hail status without a profile", args: () => manage("status"), code: 64, line: /^hail: which profile\? give PROFILE or --profile NAME$/ },
  { title: "hail hold without a profile", args: () => manage("hold"), code: 64, line: /^hail: which profile\? give PROFILE or --profile NAME$/ },
  { title: "hail release without a profile", args: () => manage("release"), code: 64, line: /^hail: which profile\? give PROFILE or --profile NAME$/ },
  // a profile hail does not know: named, with the ones it knows; hold says how to go on, pasteable
  {
    title: "hail hold myap (a typo of the deployed myapp), with a reason",
    args: () => manage("hold", "myap", "--reason", "db migration"),
    code: 64,
    line: /^hail: profile myap is unknown: .*profiles hail knows there: (\S+, )*myapp\b.* \(to hold it before its first deployment, run hail hold myap --reason 'db migration' --new --state-dir \S+ --profiles-dir \S+\)$/,
  },
  { title: "hail release myap", args: () => manage("release", "myap"), code: 64, line: /^hail: profile myap is unknown: no profile link \S+\/myap and no hail state for it in \S+; profiles hail knows there: (\S+, )*myapp\b/ },
  { title: "hail status myap", args: () => manage("status", "myap"), code: 64, line: /^hail: profile myap is unknown: / },
  // wrong, relative and unusable directories
  {
    title: "a relative --state-dir for a one-shot (under systemd it would mean /state)",
    args: () => [...gate(), "--profile", "myapp", "--oneshot", "--profiles-dir", w.lab.profilesDir, "--state-dir", "state"],
    code: 64,
    line: /^hail: --state-dir state is a relative path: hail would take it from the directory it is started in \(\/ under systemd\) \(give it as an absolute path: --state-dir \/\S+\/scratch-\w+\/state\)$/,
  },
  { title: "a relative --profiles-dir for plan", args: () => ["plan", ...gate(), "--profile", "myapp", "--profiles-dir", "profiles", "--state-dir", w.stateDir], code: 64, line: /^hail: --profiles-dir profiles is a relative path: .*\(give it as an absolute path: --profiles-dir \/\S+\/profiles\)$/ },
  { title: "a relative --state-dir for hold", args: () => ["hold", "myapp", "--profiles-dir", w.lab.profilesDir, "--state-dir", "var/hail"], code: 64, line: /^hail: --state-dir var\/hail is a relative path/ },
  { title: "a state dir that cannot be created (under /proc)", args: () => [...gate(), "--profile", "myapp", "--oneshot", "--profiles-dir", w.lab.profilesDir, "--state-dir", `/proc/hail-state-${process.pid}`], code: 73, line: /^hail: .*\/proc\/hail-state-\d+.*cannot be created/ },
  {
    title: "a state dir that is a regular file (hail hold --new)",
    args: async () => {
      const file = fresh("state-file");
      await writeFile(file, "");
      return ["hold", "fresh", "--new", "--profiles-dir", w.lab.profilesDir, "--state-dir", file];
    },
    code: 73,
    line: /^hail: .*state dir \S+state-file-\d+.*not a directory/,
  },
  { title: "a state dir below a regular file (a one-shot)", args: async () => {
      const file = fresh("plain-file");
      await writeFile(file, "");
      return [...gate(), "--profile", "myapp", "--oneshot", "--profiles-dir", w.lab.profilesDir, "--state-dir", path.join(file, "state")];
    }, code: 73, line: /^hail: .*plain-file-\d+\/state.*(ENOTDIR|not a directory)/ },
  { title: "an empty --profiles-dir", args: () => ["status", "myapp", "--profiles-dir", "", "--state-dir", w.stateDir], code: 64, line: /^hail: --profiles-dir is empty: give a directory/ },
  // Hydra: a wrong constituent, https:// to a plain-HTTP server
  { title: "a wrong constituent (myap)", args: () => ["--gate-job", w.gateUrl, "--constituent", "myap", "--profile", "myapp", "--oneshot", ...lab()], code: 65, line: /^hail: myapp: .*myap.*\bmyapp\b/, recordsError: true },
  { title: "plan of a wrong constituent", args: () => ["plan", "--gate-job", w.gateUrl, "--constituent", "myap", "--profile", "myapp", ...lab()], code: 65, line: /^hail: myapp: .*myap.*\bmyapp\b/ },
  { title: "https:// to a plain-HTTP Hydra", args: () => ["plan", "--gate-job", w.gateUrl.replace(/^http:/, "https:"), "--constituent", "myapp", "--profile", "myapp", "--timeout", "5s", ...lab()], code: 69, line: /^hail: myapp: Hydra unavailable at https:\/\/127\.0\.0\.1:\d+\/.*/ },
  // config files
  { title: "a config file with a wrong type (gateJob: 5)", args: async () => ["--config", await configFile({ targets: [{ profile: "myapp", gateJob: 5, constituent: "myapp" }] }), "--oneshot", ...lab()], code: 64, line: /^hail: .*hail\.json-\d+.*targets\[0\]\.gateJob/ },
  { title: "a config file that is not JSON", args: async () => ["plan", "--config", await configFile("{ targets: [")], code: 64, line: /^hail: .*hail\.json-\d+/ },
  { title: "a config file with a relative stateDir", args: async () => ["--config", await configFile({ stateDir: "state", profilesDir: w.lab.profilesDir, targets: [{ profile: "myapp", gateJob: w.gateUrl, constituent: "myapp" }] }), "--oneshot"], code: 64, line: /^hail: config file \S+, targets\[0\] \(profile myapp\): --state-dir state is a relative path: .*\(give it as an absolute path: --state-dir \/\S+\)$/ },
  { title: "hold --config FILE of a profile that is not its target", args: async () => ["hold", "--config", await configFile({ profilesDir: w.lab.profilesDir, stateDir: w.stateDir, targets: [{ profile: "myapp", gateJob: w.gateUrl, constituent: "myapp" }] }), "myap"], code: 64, line: /^hail: profile myap is not a target of config file \S+; its targets: myapp$/ },
  // values out of range
  { title: "--poll-period 0", args: () => [...gate(), "--profile", "myapp", "--poll-period", "0", ...lab()], code: 64, line: /^hail: --poll-period 0 must be longer than zero$/ },
  { title: "--timeout 8d", args: () => [...gate(), "--profile", "myapp", "--oneshot", "--timeout", "8d", ...lab()], code: 64, line: /^hail: --timeout 8d is too long: the limit is 7 days \(7d\)$/ },
  { title: "--poll-period 5x", args: () => [...gate(), "--profile", "myapp", "--poll-period", "5x", ...lab()], code: 64, line: /^hail: --poll-period: cannot read duration "5x" \(use e\.g\. 30s, 5m, 1h30m\)$/ },
  { title: "hold --until in the past", args: () => manage("hold", "myapp", "--until", "2001-01-01"), code: 64, line: /^hail: --until 2001-01-01 is not in the future$/ },
];

describe(`operator mistakes and environment faults: ${MISTAKES.length} cases, each its code, one hail: line last, nothing written`, () => {
  it("the table has at least 30 cases", () => assert.ok(MISTAKES.length >= 30, String(MISTAKES.length)));

  for (const mistake of MISTAKES) {
    it(mistake.title, async () => {
      const args = await mistake.args();
      const before = await written(mistake.recordsError !== true);
      const cwdBefore = await readdir(scratch);
      const r = await runHailIn(args, w.env, { cwd: scratch });
      assert.equal(r.code, mistake.code, `exit code; stderr:\n${r.stderr}`);
      assert.match(lastLine(r.stderr), mistake.line);
      assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("hail: ")).length, 1, `one hail: line:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /unexpected error|\n\s+at /, "no stack trace");
      assert.deepEqual(await written(mistake.recordsError !== true), before, "no state file, profile link or lock written");
      assert.deepEqual(await readdir(scratch), cwdBefore, "nothing made in the working directory");
    });
  }
});

/** A lock file or a profile's lock link: what a process killed while it held them leaves. */
const isLock = (entry: string) => /\.lock |\.hail-lock-link /.test(entry);
const withoutLocks = (entries: string[]) => entries.filter((e) => !isLock(e));

/** A Hydra that takes requests and never answers: hail is then waiting on it. */
async function silentHydra(): Promise<{ url: string; waiting: () => number; close: () => void }> {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => held.push(res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/job/p/main/release_gate`;
  return {
    url,
    waiting: () => held.length,
    close: () => {
      for (const res of held) res.destroy();
      server.close();
    },
  };
}

describe("signals while waiting on Hydra end the command as the signal table of docs/security.md says; nothing written", () => {
  // (README, "Signals"): a one-shot and plan keep the default action of SIGTERM and SIGINT
  const cases: [string, (url: string) => string[], NodeJS.Signals][] = [
    ["SIGTERM to a one-shot", (url) => ["--gate-job", url, "--constituent", "myapp", "--profile", "myapp", "--oneshot", ...lab()], "SIGTERM"],
    ["SIGINT to a one-shot", (url) => ["--gate-job", url, "--constituent", "myapp", "--profile", "myapp", "--oneshot", ...lab()], "SIGINT"],
    ["SIGINT to plan", (url) => ["plan", "--gate-job", url, "--constituent", "myapp", "--profile", "myapp", ...lab()], "SIGINT"],
    ["SIGTERM to plan", (url) => ["plan", "--gate-job", url, "--constituent", "myapp", "--profile", "myapp", ...lab()], "SIGTERM"],
  ];
  for (const [title, args, signal] of cases) {
    it(`${title}: ends by ${signal}`, async () => {
      const hydra = await silentHydra();
      try {
        const before = await written();
        const { NODE_TEST_CONTEXT: _ignored, ...env } = w.env;
        const child = execa(process.execPath, [HAIL_BIN, ...args(hydra.url)], { env, extendEnv: false, reject: false, stdin: "ignore", timeout: SAFETY_TIMEOUT_MS });
        await waitUntil(() => hydra.waiting() > 0, "the request to Hydra");
        child.kill(signal);
        const r = await child;
        assert.equal(r.signal, signal, `ended by ${signal}; exit ${String(r.exitCode)}; stderr:\n${String(r.stderr)}`);
        // a one-shot killed while it holds its locks leaves them; the next run takes them over
        assert.deepEqual(withoutLocks(await written()), withoutLocks(before), "no state file or profile link written");
        const next = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
        assert.equal(next.code, 0, `the next one-shot is not locked out:\n${next.stderr}`);
        assert.deepEqual((await written()).filter(isLock), [], "and leaves no lock behind");
      } finally {
        hydra.close();
      }
    });
  }

  it("SIGTERM to a daemon waiting on Hydra: it stops and exits 0", async () => {
    const hydra = await silentHydra();
    try {
      const daemon = w.startDaemon(["--gate-job", hydra.url, "--constituent", "myapp", "--profile", "myapp", "--poll-period", "1h", ...lab()]);
      await waitUntil(() => hydra.waiting() > 0, "the daemon's request to Hydra");
      hydra.close(); // the request fails at once: the daemon then sees its stop
      assert.equal(await daemon.stop("SIGTERM"), 0, daemon.stderr);
      assert.ok(daemon.logLines().some((l) => l.msg === "hail started: polling every 1h"), `the period as it was written:\n${daemon.stderr}`);
    } finally {
      hydra.close();
    }
  });
});

describe("holding before the first deployment, and --config targets (SPEC section 9)", () => {
  it("hold --new holds a profile before its first deployment; status and release then know it", async () => {
    const held = await w.hail(["hold", "fresh", "--new", "--reason", "not yet", ...w.manageArgs()]);
    assert.equal(held.code, 0, held.stderr);
    assert.equal(held.stdout, "held fresh: not yet");
    assert.equal((await w.readState("fresh"))?.hold?.reason, "not yet");
    const released = await w.hail(["release", "fresh", ...w.manageArgs()]);
    assert.equal(released.code, 0, released.stderr);
    assert.equal((await w.readState("fresh"))?.hold, null);
  });

  it("status --json of an unknown profile: the failure is a JSON object on stdout too, and the hail: line on stderr", async () => {
    const r = await w.hail(["status", "myap", "--json", ...w.manageArgs()]);
    assert.equal(r.code, 64, r.stderr);
    const body = JSON.parse(r.stdout) as { error: { exitCode: number; message: string } };
    assert.equal(body.error.exitCode, 64);
    assert.match(body.error.message, /profile myap is unknown/);
    assert.match(lastLine(r.stderr), /^hail: profile myap is unknown/);
  });

  it("hold --config FILE myapp holds it in the config's state dir; a target not deployed yet can be held", async () => {
    const dir = fresh("config-dir");
    await mkdir(dir);
    const config = path.join(dir, "hail.json");
    const target = { gateJob: w.gateUrl, constituent: "myapp" };
    await writeFile(config, JSON.stringify({ profilesDir: w.lab.profilesDir, stateDir: w.stateDir, targets: [{ profile: "myapp", ...target }, { profile: "upcoming", ...target }] }));
    const held = await w.hail(["hold", "--config", config, "myapp", "--reason", "from the config"]);
    assert.equal(held.code, 0, held.stderr);
    assert.equal((await w.readState("myapp"))?.hold?.reason, "from the config");
    assert.equal((await w.hail(["release", "--config", config, "myapp"])).code, 0);
    assert.equal((await w.readState("myapp"))?.hold, null);
    assert.equal((await w.hail(["hold", "--config", config, "upcoming"])).code, 0);
    assert.notEqual((await w.readState("upcoming"))?.hold, null);
  });

  for (const command of ["run", "deploy", "plan", "status", "hold", "release"]) {
    it(`hail help ${command} prints that command's usage (exit 0)`, async () => {
      const r: HailRun = await w.hail(["help", command]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: hail ${command === "deploy" ? "run" : command}\\|?`, "m"));
    });
  }

  it("bare hail prints the usage with its commands on stderr before its line", async () => {
    const r = await w.hail([]);
    for (const command of ["run|deploy", "plan", "status", "hold", "release", "help"]) assert.match(r.stderr, new RegExp(`^  ${command.replace("|", "\\|")} `, "m"));
  });
});

describe("a failed deployment's hints are commands to paste, with the directories that were given", () => {
  let f: World;
  before(async () => {
    f = await createWorld();
    const [app] = await publishedApps(f.lab, { name: "myapp", version: "1", activate: 'echo "failing"\nexit 3' });
    for (const b of greenGate(100, 10, app as string)) f.hydra.addBuild(b);
  });
  after(() => f.close());

  it("a --profiles-dir that does not exist yet (the first deployment makes it) is said once at start, at info, with its path", async () => {
    const profilesDir = path.join(f.lab.root, "new-profiles");
    const r = await f.hail(["--job-uri", `${f.hydra.url}/job/myproject/main/tests`, "--profile", "tests", "--oneshot", "--profiles-dir", profilesDir, "--state-dir", f.stateDir, "--log-format", "json"]);
    const said = r.stderr.split("\n").filter((l) => l.includes(`profile directory ${profilesDir} does not exist: the first deployment creates it`));
    assert.equal(said.length, 1, r.stderr);
    assert.equal((JSON.parse(said[0] ?? "{}") as { _meta?: { logLevelName?: string } })._meta?.logLevelName, "INFO");
  });

  it("the failure says where to look; the known-bad skip after it, how to retry", async () => {
    const dirs = `--state-dir ${f.stateDir} --profiles-dir ${f.lab.profilesDir}`;
    const failed = await f.hail([...f.gateArgs("myapp"), "--oneshot"]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(lastLine(failed.stderr).endsWith(`(run hail status myapp ${dirs} for its state)`), true, failed.stderr);
    const skipped = await f.hail([...f.gateArgs("myapp"), "--oneshot", "--log-format", "pretty"]);
    assert.equal(skipped.code, 1, skipped.stderr);
    assert.match(lastLine(skipped.stderr), /^hail: myapp not changed: \S+ failed to deploy at /);
    assert.equal(lastLine(skipped.stderr).endsWith(`(to try it again, run hail release myapp --clear-failed ${dirs})`), true, skipped.stderr);
    const status = await f.hail(["status", "myapp", ...f.manageArgs()]);
    assert.match(status.stdout, new RegExp(`known bad \\(not retried; to retry, run hail release myapp --clear-failed --state-dir \\S+ --profiles-dir \\S+\\):`));
  });
});
