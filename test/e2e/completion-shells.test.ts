// The built CLI's `hail completion SHELL` loaded in the real shell, completing as a user types:
// `hail pl<Tab>` to plan, `hail run --gate-<Tab>` to --gate-job. bash always; zsh and fish
// where they are installed (.ci/run installs zsh; fish only where the machine has it).
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { commandWords } from "../../src/cli/command-list.js";
import { runHail } from "../support/cli.js";

/** What bash offers for the line `words` when the cursor is at the end of its last word. */
async function bashCompletes(script: string, words: string[]): Promise<string[]> {
  const r = await execa("bash", ["--norc", "--noprofile", "-c", `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _hail; printf '%s\\n' "\${COMPREPLY[@]}"`, "bash", script, ...words], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stderr, "");
  return r.stdout.split("\n").filter(Boolean);
}

/**
 * What zsh's completion system offers for `line` + Tab, in an interactive zsh on a pty: every
 * candidate any completer adds goes through compadd, which writes it to a file first. The
 * marker line is printed by a command, so its text is not what was typed.
 */
async function zshCompletes(dir: string, script: string, line: string): Promise<string[]> {
  const out = path.join(dir, `zsh-${Math.random().toString(36).slice(2)}`);
  const driver = [
    "zmodload zsh/zpty",
    "zpty z zsh -f -i",
    `zpty -w z "PS1=''; autoload -Uz compinit; compinit -u -D; source \${(q)1}"`,
    `zpty -w z "compadd() { local -a __hits; builtin compadd -A __hits \\"\\$@\\"; print -rl -- \\$__hits >> \${(q)2}; builtin compadd \\"\\$@\\" }"`,
    `zpty -w z "$3"$'\\t'`,
    `zpty -w z $'\\C-u'"print -r -- MARK-\\$((40+2))"`,
    "zpty -r z seen '*MARK-42*'",
    "zpty -d z",
  ].join("\n");
  const r = await execa("zsh", ["-f", "-c", driver, "zsh", script, out, line], { reject: false, timeout: 60_000 });
  assert.equal(r.exitCode, 0, r.stderr);
  const text = await readFile(out, "utf8").catch(() => "");
  return [...new Set(text.split("\n").filter(Boolean))].sort();
}

async function fishCompletes(script: string, line: string): Promise<string[]> {
  const r = await execa("fish", ["--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, script, line], { reject: false, env: { HOME: os.tmpdir() } });
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0] ?? "").sort();
}


describe("hail completion, loaded in the real shells", () => {
  let dir: string;
  const scripts: Record<string, string> = {};
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "hail-completion-"));
    for (const shell of ["bash", "zsh", "fish"]) {
      const r = await runHail(["completion", shell], {});
      assert.equal(r.code, 0, r.stderr);
      scripts[shell] = path.join(dir, `hail.${shell}`);
      await writeFile(scripts[shell], r.stdout);
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("bash: hail pl → plan, hail run --gate- → --gate-job, hail --gate- → --gate-job (run is the default command)", async () => {
    const bash = scripts.bash as string;
    assert.deepEqual(await bashCompletes(bash, ["hail", "pl"]), ["plan"]);
    assert.deepEqual(await bashCompletes(bash, ["hail", "run", "--gate-"]), ["--gate-job"]);
    assert.deepEqual(await bashCompletes(bash, ["hail", "--gate-"]), ["--gate-job"]);
    assert.deepEqual(await bashCompletes(bash, ["hail", ""]), commandWords());
  });

  it("bash: each command its own options (status has no --gate-job), values of fixed choices, paths, and nothing for a URL", async () => {
    const bash = scripts.bash as string;
    assert.deepEqual(await bashCompletes(bash, ["hail", "status", "--gate-"]), []);
    assert.deepEqual(await bashCompletes(bash, ["hail", "plan", "--detailed-"]), ["--detailed-exitcode"]);
    assert.deepEqual(await bashCompletes(bash, ["hail", "run", "--log-level", "w"]), ["warn"]);
    assert.deepEqual(await bashCompletes(bash, ["hail", "completion", ""]), ["bash", "zsh", "fish"]);
    await writeFile(path.join(dir, "hail.json"), "{}");
    assert.deepEqual(await bashCompletes(bash, ["hail", "run", "--config", path.join(dir, "hail.j")]), [path.join(dir, "hail.json")]);
    assert.deepEqual(await bashCompletes(bash, ["hail", "run", "--gate-job", "h"]), [], "a URL: no option names, no files");
  });

  it("zsh: hail pl → plan, hail run --gate- → --gate-job, hail --log-format → pretty json", async () => {
    const zsh = scripts.zsh as string;
    assert.equal((await execa("zsh", ["-n", zsh], { reject: false })).exitCode, 0);
    assert.deepEqual(await zshCompletes(dir, zsh, "hail pl"), ["plan"]);
    assert.deepEqual(await zshCompletes(dir, zsh, "hail run --gate-"), ["--gate-job"]);
    assert.deepEqual(await zshCompletes(dir, zsh, "hail --gate-"), ["--gate-job"]);
    assert.deepEqual(await zshCompletes(dir, zsh, "hail run --log-format "), ["json", "pretty"]);
    assert.deepEqual(await zshCompletes(dir, zsh, "hail status --gate"), []);
  });

  it("fish: hail pl → plan, hail run --gate- → --gate-job, hail completion → the shells", async () => {
    const fish = scripts.fish as string;
    assert.equal((await execa("fish", ["-n", fish], { reject: false })).exitCode, 0);
    assert.deepEqual(await fishCompletes(fish, "hail pl"), ["plan"]);
    assert.deepEqual(await fishCompletes(fish, "hail run --gate-"), ["--gate-job"]);
    assert.deepEqual(await fishCompletes(fish, "hail --gate-"), ["--gate-job"]);
    assert.deepEqual(await fishCompletes(fish, "hail completion "), ["bash", "fish", "zsh"]);
    assert.deepEqual(await fishCompletes(fish, "hail status --gate"), []);
  });

  it("hail completion tcsh: exit 64 and the one hail: line, nothing on stdout", async () => {
    const r = await runHail(["completion", "tcsh"], {});
    assert.equal(r.code, 64);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "hail: completion tcsh: use one of bash, zsh, fish");
  });

  it("the command list the man page and completions are made from is the built CLI's: hail --help lists the same commands", async () => {
    const r = await runHail(["--help"], {});
    assert.equal(r.code, 0, r.stderr);
    const listed = r.stdout.split("Commands:\n")[1]?.split("\n").map((l) => /^ {2}(\S+)/.exec(l)?.[1]).filter((w): w is string => w !== undefined) ?? [];
    assert.deepEqual(listed.flatMap((w) => w.split("|")), commandWords());
  });
});
