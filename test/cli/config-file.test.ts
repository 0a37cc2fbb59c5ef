// `hail --config FILE` (README, "Config file"): the schema, the layering of options, and one exit code for
// many targets. Pure functions, except the targetsFromOptions cases, which read a file from a
// temporary directory through the real commander wiring.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Command } from "commander";
import type { ConfigFile } from "../../src/cli/config-file.js";
import { layerOptions, parseConfigFile } from "../../src/cli/config-file.js";
import type { RawOptions } from "../../src/cli/option-table.js";
import { addOptions } from "../../src/cli/option-table.js";
import { targetsFromOptions } from "../../src/cli/targets.js";
import { UsageError, combineExitCodes } from "../../src/errors.js";

const FILE = "/etc/hail/fleet.json";
const GATE = "https://hydra.example/job/acme/production/release_gate";
const JOB = "https://hydra.example/job/acme/production/standalone";

/** A valid file: two constituents of one gate and a plain job. */
function fleet(extra: Record<string, unknown> = {}, targets?: unknown[]): Record<string, unknown> {
  return {
    stateDir: "/var/lib/hail-fleet",
    targets: targets ?? [
      { profile: "myapp", gateJob: GATE, constituent: "myapp" },
      { profile: "worker", gateJob: GATE, constituent: "worker" },
      { profile: "standalone", jobUri: JOB },
    ],
    ...extra,
  };
}

const parse = (value: unknown) => parseConfigFile(JSON.stringify(value), FILE);

function usageError(...fragments: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 64);
    for (const fragment of fragments) assert.ok(err.message.includes(fragment), `${JSON.stringify(fragment)} not in: ${err.message}`);
    return true;
  };
}

describe("parseConfigFile", () => {
  it("reads a valid file: global options and every target, in order", () => {
    const file = parse(fleet({ logLevel: "debug", oneshot: true, pollPeriod: "30s", noRollback: true }));
    assert.equal(file.stateDir, "/var/lib/hail-fleet");
    assert.equal(file.logLevel, "debug");
    assert.equal(file.oneshot, true);
    assert.equal(file.pollPeriod, "30s");
    assert.equal(file.noRollback, true);
    assert.deepEqual(file.targets.map((t) => t.profile), ["myapp", "worker", "standalone"]);
    assert.deepEqual(file.targets[1], { profile: "worker", gateJob: GATE, constituent: "worker" });
    assert.equal(file.targets[2]?.jobUri, JOB);
  });

  it("accepts every per-target option inside a target", () => {
    const target = {
      profile: "myapp", gateJob: GATE, constituent: "myapp", output: "bin", activateTimeout: "2m", healthCheck: "true",
      noRollback: true, rolloutWindow: "1h", rolloutKey: "web-7", profilesDir: "/srv/profiles",
    };
    assert.deepEqual(parse(fleet({}, [target])).targets[0], target);
  });

  it("reads durations given as numbers as the command line would read them (as text)", () => {
    const file = parse(fleet({ pollPeriod: 5, timeout: 10, rolloutWindow: 3600, activateTimeout: 1.5 }, [
      { profile: "myapp", jobUri: JOB, rolloutWindow: 0, activateTimeout: 90 },
    ]));
    assert.equal(file.pollPeriod, "5");
    assert.equal(file.timeout, "10");
    assert.equal(file.rolloutWindow, "3600");
    assert.equal(file.activateTimeout, "1.5");
    assert.equal(file.targets[0]?.rolloutWindow, "0");
    assert.equal(file.targets[0]?.activateTimeout, "90");
  });

  // [what, file, fragments the message must hold besides the file's path]
  const refused: Array<[string, unknown, string[]]> = [
    ["an unknown key at the top level (a typo)", fleet({ stateDri: "/x" }), ['"stateDri"']],
    ["an unknown key inside a target", fleet({}, [{ profile: "a", jobUri: JOB }, { profile: "b", gateJob: GATE, constituant: "x" }]), ["targets[1]", '"constituant"']],
    ["a command-line-only spelling (kebab case)", fleet({ "state-dir": "/x" }), ['"state-dir"']],
    ["rollback instead of noRollback", fleet({}, [{ profile: "a", jobUri: JOB, rollback: false }]), ["targets[0]", '"rollback"']],
    ["oneshot as a string", fleet({ oneshot: "yes" }), ["oneshot", "boolean"]],
    ["noRollback as a string inside a target", fleet({}, [{ profile: "a", jobUri: JOB, noRollback: "true" }]), ["targets[0].noRollback", "boolean"]],
    ["a log level that does not exist", fleet({ logLevel: "verbose" }), ["logLevel"]],
    ["a negative duration", fleet({ pollPeriod: -1 }), ["pollPeriod"]],
    ["a duration as a boolean", fleet({ timeout: true }), ["timeout"]],
    ["a profile that is not a string", fleet({}, [{ profile: 7, jobUri: JOB }]), ["targets[0].profile"]],
    ["a target without a profile", fleet({}, [{ jobUri: JOB }]), ["targets[0].profile"]],
    ["an empty profile", fleet({}, [{ profile: "", jobUri: JOB }]), ["targets[0].profile"]],
    ["targets that is not a list", fleet({ targets: { profile: "a" } }), ["targets"]],
    ["no targets key", { stateDir: "/x" }, ["targets"]],
    ["an empty target list", fleet({}, []), ["targets", "at least one target"]],
    ["an array instead of an object", [fleet()], []],
    ["a NUL in a profile name (Node refuses it in every file call)", fleet({}, [{ profile: "my\u0000app", jobUri: JOB }]), ["targets[0].profile", "NUL"]],
    ["a NUL in a global path", fleet({ stateDir: "/var/lib/\u0000hail" }), ["stateDir", "NUL"]],
    ["a NUL in a target's command", fleet({}, [{ profile: "a", jobUri: JOB, healthCheck: "curl\u0000" }]), ["targets[0].healthCheck", "NUL"]],
    ["the same profile in two targets", fleet({}, [{ profile: "myapp", jobUri: JOB }, { profile: "myapp", gateJob: GATE, constituent: "myapp" }]), ["myapp", "two targets"]],
  ];
  for (const [what, value, fragments] of refused) {
    it(`refuses ${what}, naming the file and the field`, () => {
      assert.throws(() => parse(value), usageError(FILE, ...fragments));
    });
  }

  it("refuses text that is not JSON, naming the file", () => {
    assert.throws(() => parseConfigFile('{"targets": [', FILE), usageError(FILE, "not valid JSON"));
  });
});

/** What commander hands over for `hail run` with no flags typed: its defaults. */
function commanderDefaults(fields: Partial<RawOptions> = {}): RawOptions {
  return {
    profilesDir: "/nix/var/nix/profiles",
    output: "out",
    stateDir: "/var/lib/hail",
    timeout: "30s",
    logLevel: "info",
    rolloutWindow: "0",
    pollPeriod: "5m",
    activateTimeout: "10m",
    rollback: true,
    ...fields,
  };
}

/** layerOptions with commander's values split as the tests give them: `cli` is what was typed. */
function targetOptions(file: ConfigFile, defaults: RawOptions, cli: Partial<RawOptions>, path: string) {
  return layerOptions(file, { ...defaults, ...cli }, (name) => name in cli, path);
}

describe("layerOptions", () => {
  const file = (value: Record<string, unknown>): ConfigFile => parse(value);

  it("one set of options per target, in the file's order, with the target's own fields", () => {
    const targets = targetOptions(file(fleet()), commanderDefaults(), {}, FILE);
    assert.equal(targets.length, 3);
    assert.deepEqual(targets.map((t) => [t.profile, t.gateJob, t.constituent, t.jobUri]), [
      ["myapp", GATE, "myapp", undefined],
      ["worker", GATE, "worker", undefined],
      ["standalone", undefined, undefined, JOB],
    ]);
  });

  it("commander's defaults < the file's global options < the target's < flags on the command line", () => {
    const value = fleet({ logLevel: "warn", timeout: "10s", output: "bin", activateTimeout: "2m", stateDir: "/var/lib/fleet" }, [
      { profile: "a", jobUri: JOB, output: "lib", activateTimeout: "5m" },
      { profile: "b", jobUri: JOB },
    ]);
    const [a, b] = targetOptions(file(value), commanderDefaults(), { logLevel: "debug", activateTimeout: "7m" }, FILE);
    assert.ok(a && b);
    // a default nobody overrides
    assert.equal(a.pollPeriod, "5m");
    // the file's global option over the default
    assert.equal(a.timeout, "10s");
    assert.equal(a.stateDir, "/var/lib/fleet");
    assert.equal(b.output, "bin");
    // the target's own over the file's global one, for that target only
    assert.equal(a.output, "lib");
    // the command line over both
    assert.equal(a.logLevel, "debug");
    assert.equal(b.logLevel, "debug");
    assert.equal(a.activateTimeout, "7m");
    assert.equal(b.activateTimeout, "7m");
  });

  it("a rollout window and key per target", () => {
    const value = fleet({ rolloutWindow: "1h" }, [
      { profile: "a", jobUri: JOB, rolloutKey: "web-1" },
      { profile: "b", jobUri: JOB, rolloutWindow: "0" },
    ]);
    const [a, b] = targetOptions(file(value), commanderDefaults(), {}, FILE);
    assert.deepEqual([a?.rolloutWindow, a?.rolloutKey], ["1h", "web-1"]);
    assert.deepEqual([b?.rolloutWindow, b?.rolloutKey], ["0", undefined]);
  });

  const rollbacks: Array<[string, Record<string, unknown>, Record<string, unknown>, Partial<RawOptions>, boolean]> = [
    ["nothing said: rollback on", {}, {}, {}, true],
    ["noRollback: true in the file", { noRollback: true }, {}, {}, false],
    ["noRollback: false in the file", { noRollback: false }, {}, {}, true],
    ["noRollback: true in the target", {}, { noRollback: true }, {}, false],
    ["the target's noRollback: false over the file's true", { noRollback: true }, { noRollback: false }, {}, true],
    ["--no-rollback on the command line over the file's noRollback: false", { noRollback: false }, {}, { rollback: false }, false],
  ];
  for (const [what, global, target, cli, rollback] of rollbacks) {
    it(`${what} -> rollback ${rollback}`, () => {
      const [t] = targetOptions(file(fleet(global, [{ profile: "a", jobUri: JOB, ...target }])), commanderDefaults(), cli, FILE);
      assert.equal(t?.rollback, rollback);
      assert.ok(t && !("noRollback" in t), "the file's key name does not leak into the raw options");
    });
  }

  const targetFlags: Array<[Partial<RawOptions>, string]> = [
    [{ gateJob: GATE }, "--gate-job"],
    [{ jobUri: JOB }, "--job-uri"],
    [{ constituent: "myapp" }, "--constituent"],
    [{ profile: "myapp" }, "--profile"],
  ];
  for (const [cli, flag] of targetFlags) {
    it(`refuses ${flag} on the command line next to --config`, () => {
      assert.throws(() => targetOptions(file(fleet()), commanderDefaults(), cli, FILE), usageError(FILE, flag));
    });
  }
});

describe("targetsFromOptions with commander's own parse (what `hail --config` runs)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "hail-config-test-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  let n = 0;
  async function configFile(value: unknown): Promise<string> {
    const file = path.join(dir, `config-${++n}.json`);
    await writeFile(file, JSON.stringify(value));
    return file;
  }

  /** `hail run ARGS` parsed by the same option definitions as the CLI. */
  function parsed(args: string[]): { opts: RawOptions & { config?: string }; cmd: Command } {
    const cmd = addOptions(new Command("run"), "run").exitOverride();
    cmd.parse(args, { from: "user" });
    return { opts: cmd.opts<RawOptions & { config?: string }>(), cmd };
  }

  it("the file overrides commander's defaults; a typed flag overrides the file", async () => {
    const file = await configFile(fleet({ logLevel: "warn", pollPeriod: "30s", timeout: 10, noRollback: true, logFormat: "json" }));
    const { opts, cmd } = parsed(["--config", file, "--log-level", "debug"]);
    const { configs, configFile: resolved } = await targetsFromOptions(opts, cmd);
    assert.equal(resolved, path.resolve(file));
    assert.deepEqual(configs.map((c) => c.target.profile.name), ["myapp", "worker", "standalone"]);
    for (const config of configs) {
      assert.equal(config.stateDir, "/var/lib/hail-fleet", "the file's stateDir over the default");
      assert.equal(config.pollPeriodMs, 30_000, "the file's pollPeriod over the default 5m");
      assert.equal(config.timeoutMs, 10_000, "a bare number is seconds for --timeout");
      assert.equal(config.rollback, false, "noRollback in the file");
      assert.equal(config.logLevel, "debug", "--log-level on the command line over the file's warn");
      assert.equal(config.oneshot, false);
    }
  });

  it("--oneshot and --state-dir on the command line override the file", async () => {
    const file = await configFile(fleet({ oneshot: false, stateDir: "/var/lib/from-file" }));
    const { opts, cmd } = parsed(["--config", file, "--oneshot", "--state-dir", "/tmp/from-cli"]);
    const { configs } = await targetsFromOptions(opts, cmd);
    assert.ok(configs.every((c) => c.oneshot && c.stateDir === "/tmp/from-cli"));
  });

  it("a staged rollout set in the file reaches each target", async () => {
    const file = await configFile(fleet({ rolloutWindow: "1h", rolloutKey: "web-3" }, [
      { profile: "a", jobUri: JOB },
      { profile: "b", jobUri: JOB, rolloutKey: "web-4" },
      { profile: "c", jobUri: JOB, rolloutWindow: 0 },
    ]));
    const { opts, cmd } = parsed(["--config", file]);
    const { configs } = await targetsFromOptions(opts, cmd);
    assert.deepEqual(configs.map((c) => c.rollout), [{ windowMs: 3_600_000, key: "web-3" }, { windowMs: 3_600_000, key: "web-4" }, null]);
  });

  it("refuses --profile next to --config", async () => {
    const file = await configFile(fleet());
    const { opts, cmd } = parsed(["--config", file, "--profile", "myapp"]);
    await assert.rejects(targetsFromOptions(opts, cmd), usageError("--profile"));
  });

  it("refuses one profile in two targets, once by name and once by path", async () => {
    const file = await configFile(fleet({ profilesDir: "/srv/profiles" }, [
      { profile: "myapp", gateJob: GATE, constituent: "myapp" },
      { profile: "/srv/profiles/myapp", gateJob: GATE, constituent: "worker" },
    ]));
    const { opts, cmd } = parsed(["--config", file]);
    await assert.rejects(targetsFromOptions(opts, cmd), usageError(file, "myapp"));
  });

  it("a file that does not exist is a usage error naming it", async () => {
    const missing = path.join(dir, "missing.json");
    const { opts, cmd } = parsed(["--config", missing]);
    await assert.rejects(targetsFromOptions(opts, cmd), usageError(missing));
  });

  // Errors found after the schema (a target without a job, a duration that cannot be read, an
  // unsafe profile name) must still tell the operator which file, and which target, to fix.
  const semantic: Array<[string, Record<string, unknown>, string[]]> = [
    ["a target with neither gateJob nor jobUri", fleet({}, [{ profile: "a", jobUri: JOB }, { profile: "lost" }]), ["lost"]],
    ["a target with both gateJob and jobUri", fleet({}, [{ profile: "both", gateJob: GATE, constituent: "x", jobUri: JOB }]), ["both"]],
    ["a profile name with ..", fleet({}, [{ profile: "../etc", jobUri: JOB }]), [".."]],
    ["an unreadable duration", fleet({ pollPeriod: "five minutes" }), ["five minutes"]],
  ];
  for (const [what, value, fragments] of semantic) {
    it(`refuses ${what}, naming the config file`, async () => {
      const file = await configFile(value);
      const { opts, cmd } = parsed(["--config", file]);
      await assert.rejects(targetsFromOptions(opts, cmd), usageError(file, ...fragments));
    });
  }
});

describe("combineExitCodes", () => {
  // the most urgent failure wins: configuration, crash, failed deployment, Hydra's answers, not yet
  const cases: Array<[number[], number]> = [
    [[], 0],
    [[0], 0],
    [[0, 0, 0], 0],
    [[0, 1, 0], 1],
    [[0, 75], 75],
    [[75, 1], 1],
    [[1, 65], 1],
    [[65, 69], 65],
    [[69, 75], 69],
    [[75, 2], 75],
    [[0, 2], 2],
    [[1, 64], 64],
    [[1, 70], 70],
    [[70, 64], 64],
  ];
  for (const [codes, expected] of cases) {
    it(`[${codes.join(", ")}] -> ${expected}`, () => assert.equal(combineExitCodes(codes), expected));
  }
});
