// Help that teaches, as the built CLI prints it: every command's --help fits an 80-column
// terminal, lists its options under the option table's group headings, and run and plan end
// with examples and the exit codes; `hail --help` gives each command one line and says where
// the manual is.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { COMMAND_LIST, commandWords } from "../../src/cli/command-list.js";
import { EXAMPLE_GATE, examplesOf } from "../../src/cli/help-examples.js";
import type { CommandName, OptionRow } from "../../src/cli/option-table.js";
import { COMMAND_OPTIONS, GROUPS, OPTIONS, flagOf, optionNamesOf, rowIn } from "../../src/cli/option-table.js";
import { EXIT } from "../../src/errors.js";
import { runHail } from "../support/cli.js";

const COMMANDS = Object.keys(COMMAND_OPTIONS) as CommandName[];

/** What `hail ARGS` prints on stdout, exit 0 (stdout is a pipe: commander wraps at 80). */
async function help(args: string[]): Promise<string> {
  const r = await runHail(args, {});
  assert.equal(r.code, 0, `hail ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The lines under each heading (`Heading:` alone on a line) up to the next blank line. */
function sections(text: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split("\n")) {
    const heading = /^([A-Z][A-Za-z ]*):$/.exec(line)?.[1];
    if (heading !== undefined) found.set(heading, (current = []));
    else if (line === "") current = null;
    else current?.push(line);
  }
  return found;
}

describe("--help", () => {
  const texts = new Map<string, string>();
  before(async () => {
    const asked = [["--help"], ["help"], ...commandWords().filter((w) => w !== "help").map((w) => [w, "--help"]), ["help", "plan"]];
    for (const args of asked) texts.set(args.join(" "), await help(args));
  });

  it("fits an 80-column terminal, for every command", () => {
    assert.ok(texts.size >= COMMAND_LIST.length + 2);
    for (const [args, text] of texts) {
      const wide = text.split("\n").filter((l) => [...l].length > 80);
      assert.deepEqual(wide, [], `hail ${args} prints lines wider than 80 columns`);
    }
  });

  it("run and plan group their options under headings, in order, each option under its group's", () => {
    for (const command of ["run", "plan"] as const) {
      const text = texts.get(`${command} --help`) ?? "";
      const headings = [...sections(text).keys()];
      const expected = [...new Set(optionNamesOf(command).map((n) => GROUPS[(OPTIONS[n] as OptionRow).group]))];
      assert.deepEqual(
        headings.filter((h) => expected.includes(h as never)),
        expected,
      );
      if (command === "run") assert.deepEqual(expected, ["Target", "Hydra access", "Deployment", "Safety", "NixOS", "Fleet", "Observability"]);
    }
  });

  it("every command lists each of its options under its group's heading", () => {
    for (const command of COMMANDS) {
      const listed = sections(texts.get(`${command} --help`) ?? "");
      for (const name of COMMAND_OPTIONS[command]) {
        const row = rowIn(name, command);
        const under = listed.get(GROUPS[row.group]) ?? [];
        assert.ok(
          under.some((l) => l.startsWith(`  ${row.flag} `) || l === `  ${row.flag}`),
          `hail ${command} --help: ${flagOf(name)} is not under "${GROUPS[row.group]}:"`,
        );
      }
    }
  });

  it("run and plan end with two or three examples on the docs' gate, and every exit code", () => {
    for (const command of ["run", "plan"] as const) {
      const text = texts.get(`${command} --help`) ?? "";
      const examples = text.split("\nExamples:\n")[1]?.split("\nExit codes:\n")[0]?.split("\n") ?? [];
      const commands = examples.filter((l) => l.startsWith(`    hail ${command} `));
      assert.ok(commands.length >= 2 && commands.length <= 3, `hail ${command} --help has ${commands.length} examples`);
      assert.ok(examples.some((l) => l.includes(EXAMPLE_GATE)), `hail ${command} --help: no example on ${EXAMPLE_GATE}`);
      const codes = (sections(text).get("Exit codes") ?? []).map((l) => Number(/^ {2}(\d+) /.exec(l)?.[1]));
      assert.deepEqual(codes, [...new Set(Object.values(EXIT))].sort((a, b) => a - b), `hail ${command} --help: exit codes`);
      assert.ok(text.indexOf("Examples:") < text.indexOf("Exit codes:"));
    }
  });

  it("the help examples use only options their command has", () => {
    for (const command of COMMANDS) {
      const known = new Set(COMMAND_OPTIONS[command].map((n) => flagOf(n)));
      for (const e of examplesOf(command)) {
        const flags = e.lines.join(" ").match(/--[a-z-]+/g) ?? [];
        assert.deepEqual(
          flags.filter((f) => !known.has(f)),
          [],
          `hail ${command}: example "${e.what}"`,
        );
      }
    }
  });

  it("hail --help lists every command on one line of its own and points to man hail", () => {
    for (const args of ["--help", "help"]) {
      const text = texts.get(args) ?? "";
      const lines = sections(text).get("Commands") ?? [];
      assert.deepEqual(
        lines.map((l) => /^ {2}(\S+)/.exec(l)?.[1]),
        COMMAND_LIST.map((c) => [c.name, ...c.aliases].join("|")),
        `hail ${args}: a command's line wraps onto a second one`,
      );
      assert.match(text, /man hail\b/);
      assert.match(text, /\bdocs\//);
    }
  });

  it("help COMMAND prints the command's own help", () => {
    assert.equal(texts.get("help plan"), texts.get("plan --help"));
  });
});
