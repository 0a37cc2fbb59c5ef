// The completion scripts against the option table: every command and every option of each
// command is offered by bash, zsh and fish, and an unknown shell is a usage error.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COMMAND_LIST, SHELLS, commandWords } from "../../src/cli/command-list.js";
import { completionScript } from "../../src/cli/completion.js";
import { COMMAND_OPTIONS, OPTIONS, flagOf } from "../../src/cli/option-table.js";
import type { CommandName, OptionName } from "../../src/cli/option-table.js";
import { EXIT, UsageError } from "../../src/errors.js";

/** The part of a script that completes one command (bash: its `case` arm; zsh: its `_arguments`; fish: its lines). */
function partFor(shell: string, script: string, command: CommandName): string {
  const entry = COMMAND_LIST.find((c) => c.name === command);
  assert.ok(entry);
  const words = [entry.name, ...entry.aliases];
  if (shell === "fish") {
    const condition = command === "run" ? "not __fish_seen_subcommand_from" : `__fish_seen_subcommand_from ${words.join(" ")}'`;
    return script.split("\n").filter((l) => l.includes(condition)).join("\n");
  }
  const start = shell === "bash" ? `    ${words.join("|")})\n` : `    (${words.join("|")})\n`;
  const from = script.indexOf(start);
  assert.notEqual(from, -1, `${shell}: no part for ${command}`);
  const end = script.indexOf(shell === "bash" ? "\n      ;;" : "\n      ;;", from);
  return script.slice(from, end);
}

/** How each script names an option: `--gate-job` in bash and zsh, `-l gate-job` in fish. */
function named(shell: string, long: string): RegExp {
  const name = long.replace(/^--/, "");
  return shell === "fish" ? new RegExp(` -l ${name}( |$)`, "m") : new RegExp(`(^|[\\s'$|n])--${name}(?![a-z-])`);
}

describe("hail completion bash|zsh|fish: made from the option table", () => {
  for (const shell of SHELLS) {
    const script = completionScript(shell);

    it(`${shell}: offers every command and alias`, () => {
      for (const word of commandWords()) assert.ok(script.includes(word), `${shell} lacks ${word}`);
      assert.deepEqual(commandWords(), ["run", "deploy", "plan", "status", "hold", "release", "sign", "completion", "help"]);
    });

    it(`${shell}: offers each command exactly its options from the table, and no other`, () => {
      for (const command of Object.keys(COMMAND_OPTIONS) as CommandName[]) {
        const part = partFor(shell, script, command);
        const own = new Set((COMMAND_OPTIONS[command] as readonly OptionName[]).map(flagOf));
        for (const long of own) assert.match(part, named(shell, long), `${shell} ${command} lacks ${long}`);
        for (const name of Object.keys(OPTIONS) as OptionName[]) {
          if (!own.has(flagOf(name))) assert.doesNotMatch(part, named(shell, flagOf(name)), `${shell} ${command} offers ${flagOf(name)}, which it does not take`);
        }
      }
    });
  }

  it("completes the values of options with a few fixed values, from the table", () => {
    assert.ok(completionScript("bash").includes(`--log-format) COMPREPLY=($(compgen -W $'pretty\\njson' -- "$cur"))`));
    assert.ok(completionScript("zsh").includes(`:format:(pretty json)'`));
    assert.ok(completionScript("fish").includes(`-l nixos-action -x -a 'switch boot'`));
  });

  it("quotes help texts for each shell: a quote or bracket in a help cannot end the string", () => {
    // --on-failure's help has parentheses; --rollout-window's a non-ASCII sign: both stay inside the quotes
    const zsh = completionScript("zsh");
    const fish = completionScript("fish");
    assert.ok(zsh.includes("'--rollout-window[staged rollout: deploy a new gate build only after stoptime + window × f(key, build)]:duration: '"));
    assert.ok(fish.includes("-l on-failure -x -d 'run after a failed deployment (same env, plus HAIL_ERROR)'"));
    // --min-free's help has an apostrophe (the store's filesystem)
    assert.ok(zsh.includes("'--min-free[refuse to realise when the store'\\''s filesystem would drop below this]:size: '"));
    assert.ok(fish.includes("-l min-free -x -d 'refuse to realise when the store\\'s filesystem would drop below this'"));
  });

  it("refuses a shell it has no script for: a usage error (64) that names the shells", () => {
    assert.throws(() => completionScript("tcsh"), (err: unknown) => err instanceof UsageError && err.exitCode === EXIT.usage && err.message === "completion tcsh: use one of bash, zsh, fish");
  });
});
