// The option table against what a reader sees: docs/reference.md's options table and config-file keys,
// and commander's own view of each command's options.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Command } from "commander";
import type { CommandName, OptionName, OptionRow } from "../../src/cli/option-table.js";
import { COMMAND_OPTIONS, GROUPS, OPTIONS, addOptions, flagOf, optionNamesOf } from "../../src/cli/option-table.js";

const REFERENCE = readFileSync(new URL("../../docs/reference.md", import.meta.url), "utf8");
const COMMANDS = Object.keys(COMMAND_OPTIONS) as CommandName[];

/** The lines of one docs/reference.md section (`## title` up to the next `## `). */
function section(title: string): string[] {
  const lines = REFERENCE.split("\n");
  const start = lines.indexOf(`## ${title}`);
  assert.notEqual(start, -1, `docs/reference.md has no section "## ${title}"`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** docs/reference.md's options table: `--flag` (run's) or `plan --json` (another command's) → default cell. */
function readmeRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of section("Commands and flags").filter((l) => l.startsWith("| `"))) {
    const [, first = "", defaults = ""] = line.split(/(?<!\\)\|/).map((cell) => cell.trim());
    for (const [, code = ""] of first.matchAll(/`([^`]+)`/g)) {
      const m = /^(?:([a-z]+) )?(--[a-z-]+)/.exec(code);
      assert.ok(m, `docs/reference.md options table: cannot read the flag in ${JSON.stringify(code)}`);
      rows.set(m[1] ? `${m[1]} ${m[2]}` : (m[2] ?? ""), defaults);
    }
  }
  return rows;
}

/** How docs/reference.md names an option: plain for run's, else after the first command that has it. */
function readmeName(name: OptionName): string {
  const command = COMMANDS.find((c) => (COMMAND_OPTIONS[c] as readonly OptionName[]).includes(name));
  assert.ok(command, `${name} belongs to no command`);
  return command === "run" ? flagOf(name) : `${command} ${flagOf(name)}`;
}

const NAMES = Object.keys(OPTIONS) as OptionName[];

describe("docs/reference.md's options table and the option table agree", () => {
  const rows = readmeRows();

  it("every option has a row in docs/reference.md", () => {
    const missing = NAMES.map(readmeName).filter((n) => !rows.has(n));
    assert.deepEqual(missing, [], "add a row to docs/reference.md's options table (Commands and flags)");
  });

  it("every docs/reference.md row is a real option", () => {
    const real = new Set(NAMES.map(readmeName));
    const stray = [...rows.keys()].filter((n) => !real.has(n));
    assert.deepEqual(stray, [], "docs/reference.md lists options hail does not have");
  });

  it("docs/reference.md shows each default commander applies", () => {
    for (const name of NAMES) {
      const row: OptionRow = OPTIONS[name];
      if (row.default === undefined) continue;
      const cell = rows.get(readmeName(name)) ?? "";
      assert.ok(cell.includes(`\`${row.default}\``), `${flagOf(name)}: docs/reference.md's default column says ${JSON.stringify(cell)}, hail uses ${row.default}`);
    }
  });
});

describe("the config file's keys", () => {
  const fileKeys = (where: string[]) =>
    NAMES.flatMap((name) => {
      const { file }: OptionRow = OPTIONS[name];
      return file && where.includes(file.where) ? [file.key ?? name] : [];
    });

  it("are the long flags in camelCase", () => {
    for (const name of NAMES) {
      const { file }: OptionRow = OPTIONS[name];
      if (file === undefined) continue;
      const camel = flagOf(name).slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      assert.equal(file.key ?? name, camel, flagOf(name));
    }
  });

  it("docs/reference.md's list of per-target keys is the table's", () => {
    const line = section("Config file").join(" ").match(/Per-target keys: ([^.]*)\./)?.[1] ?? "";
    const listed = [...line.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]).sort();
    assert.deepEqual(listed, fileKeys(["target", "both"]).sort());
  });
});

describe("addOptions", () => {
  for (const command of COMMANDS) {
    it(`${command}: commander knows exactly the table's options, under their names and group headings`, () => {
      const cmd = addOptions(new Command(command), command);
      assert.deepEqual(cmd.options.map((o) => o.attributeName()).sort(), [...COMMAND_OPTIONS[command]].sort());
      assert.deepEqual(
        cmd.options.map((o) => [o.attributeName(), o.helpGroupHeading]),
        optionNamesOf(command).map((name) => [name, `${GROUPS[(OPTIONS[name] as OptionRow).group]}:`]),
      );
    });
  }
});

describe("optionNamesOf", () => {
  it("orders a command's options group by group, keeping COMMAND_OPTIONS's order within a group", () => {
    const groups = Object.keys(GROUPS);
    for (const command of COMMANDS) {
      const names = optionNamesOf(command);
      const ranks = names.map((n) => groups.indexOf((OPTIONS[n] as OptionRow).group));
      assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), command);
      for (const group of groups) {
        const within = (list: readonly OptionName[]) => list.filter((n) => (OPTIONS[n] as OptionRow).group === group);
        assert.deepEqual(within(names), within(COMMAND_OPTIONS[command]), `${command}, ${group}`);
      }
    }
  });
});
