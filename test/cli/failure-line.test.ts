import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommanderError } from "commander";
import { commanderFailure, failureLine, givenDirFlags, pasteable, targetFailureOf, targetsFailed } from "../../src/cli/failure-line.js";
import { EXIT, HydraUnavailable, NotReady, UsageError } from "../../src/errors.js";

describe("failureLine: hail: <what failed>: <why> (<hint>), one line", () => {
  const cases: [string, { message: string; hint: string | null }, string][] = [
    ["message and hint", { message: "profile myap is unknown", hint: "run hail hold myap --new" }, "hail: profile myap is unknown (run hail hold myap --new)\n"],
    ["no hint", { message: "--profile is required", hint: null }, "hail: --profile is required\n"],
    ["an empty hint is none", { message: "x failed", hint: "" }, "hail: x failed\n"],
    ["nix's output tail joined into one line", { message: "nix-store --realise failed:\n  error: path is not valid\n\n  more", hint: null }, "hail: nix-store --realise failed: | error: path is not valid | more\n"],
    ["control characters escaped", { message: "job \u001b[31mred\rforged", hint: null }, "hail: job \\u001b[31mred\\rforged\n"],
  ];
  for (const [title, err, line] of cases) it(title, () => assert.equal(failureLine(err), line));
});

describe("pasteable: a command that can be pasted as it is", () => {
  it("quotes what a shell would split or expand", () => {
    assert.equal(pasteable(["release", "myapp", "--state-dir", "/srv/hail state"]), "hail release myapp --state-dir '/srv/hail state'");
    assert.equal(pasteable(["hold", "myapp", "--reason", "it's $HOME"]), `hail hold myapp --reason "it's \\$HOME"`);
    assert.equal(pasteable(["status", "hail/web"]), "hail status hail/web");
  });
});

describe("givenDirFlags: only the directory flags the operator typed, in a fixed order", () => {
  const opts = { config: "hail.json", stateDir: "/srv/state", profilesDir: "/nix/var/nix/profiles" };
  it("typed ones only (a default is not repeated)", () => {
    assert.deepEqual(givenDirFlags(opts, (o) => o !== "profilesDir"), ["--config", "hail.json", "--state-dir", "/srv/state"]);
    assert.deepEqual(givenDirFlags(opts, () => false), []);
  });
  it("an option without a value is left out", () => assert.deepEqual(givenDirFlags({ stateDir: "/s" }, () => true), ["--state-dir", "/s"]));
});

describe("targetsFailed: the failures of many targets in one error with the command's code", () => {
  const unavailable = targetFailureOf("web", new HydraUnavailable("http://h/x", "HTTP 503").withHint("check that Hydra is up"));
  const notReady = targetFailureOf("db", new NotReady("nothing deployable yet"));
  it("one target: its line and its hint", () => {
    const err = targetsFailed([unavailable], 1, EXIT.unavailable, null);
    assert.equal(err.exitCode, 69);
    assert.equal(err.message, "web: Hydra unavailable at http://h/x: HTTP 503");
    assert.equal(err.hint, "check that Hydra is up");
  });
  it("several: counted and listed, with the hint for many", () => {
    const err = targetsFailed([notReady, unavailable], 3, EXIT.unavailable, "run hail status --config hail.json");
    assert.equal(err.message, "2 of 3 targets failed: db: nothing deployable yet; web: Hydra unavailable at http://h/x: HTTP 503");
    assert.equal(err.kind, "unavailable", "the kind of the failure whose code the command ends with");
    assert.equal(err.hint, "run hail status --config hail.json");
  });
  it("one failure among many targets keeps its own hint", () => {
    assert.equal(targetsFailed([unavailable], 2, EXIT.unavailable, "run hail status").hint, "check that Hydra is up");
  });
});

describe("commanderFailure: commander's errors in the same form", () => {
  const err = (code: string, message: string) => new CommanderError(1, code, message);
  it("an unknown command with its suggestion", () => {
    assert.deepEqual(commanderFailure(err("commander.unknownCommand", "error: unknown command 'deplyo'\n(Did you mean deploy?)"), null), {
      message: "unknown command 'deplyo'",
      hint: "did you mean deploy? run hail --help for usage",
    });
  });
  it("an unknown option names the command's usage", () => {
    assert.deepEqual(commanderFailure(err("commander.unknownOption", "error: unknown option '--stat-dir'\n(Did you mean --state-dir?)"), "hold"), {
      message: "unknown option '--stat-dir'",
      hint: "did you mean --state-dir? run hail hold --help for usage",
    });
  });
  it("without a suggestion: where the usage is", () => {
    assert.deepEqual(commanderFailure(err("commander.excessArguments", "error: too many arguments for 'status'. Expected 1 argument but got 2."), "status"), {
      message: "too many arguments for 'status'. Expected 1 argument but got 2",
      hint: "run hail status --help for usage",
    });
  });
});

describe("errors carry their hint apart from their message", () => {
  it("UsageError(message, hint) and withHint", () => {
    assert.equal(new UsageError("x", "do y").hint, "do y");
    assert.equal(new UsageError("x").hint, null);
    assert.equal(new NotReady("x").withHint("wait").hint, "wait");
  });
});
