// The option table against what a reader sees: docs/reference/cli.md's option tables and
// docs/reference/config.md's keys (both generated: test/docs/reference-generated.test.ts keeps
// them fresh), and commander's own view of each command's options.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Command } from "commander";
import type { CommandName, OptionName, OptionRow } from "../../src/cli/option-table.js";
import { COMMAND_OPTIONS, GROUPS, OPTIONS, addOptions, flagOf, optionNamesOf } from "../../src/cli/option-table.js";

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");
const CLI = read("docs/reference/cli.md");
const CONFIG = read("docs/reference/config.md");
const COMMANDS = Object.keys(COMMAND_OPTIONS) as CommandName[];

interface DocRow {
  group: string;
  commands: string[];
  byDefault: string;
}

/** docs/reference/cli.md's option rows: `--flag <value>` → the `### group` it is under, its commands and default cells. */
function docRows(): Map<string, DocRow> {
  const rows = new Map<string, DocRow>();
  let group = "";
  for (const line of CLI.split("\n")) {
    if (line.startsWith("### ")) group = line.slice(4);
    if (!line.startsWith("| `--")) continue;
    const [, flagCell = "", commandsCell = "", byDefault = ""] = line.split(/(?<!\\)\|/).map((cell) => cell.trim());
    const flag = /^`(--[a-z-]+)/.exec(flagCell)?.[1];
    assert.ok(flag, `docs/reference/cli.md: cannot read the flag in ${JSON.stringify(flagCell)}`);
    rows.set(flag, { group, commands: [...commandsCell.matchAll(/`([a-z]+)`/g)].map((m) => m[1] ?? ""), byDefault });
  }
  return rows;
}

const NAMES = Object.keys(OPTIONS) as OptionName[];

describe("docs/reference/cli.md's option tables and the option table agree", () => {
  const rows = docRows();

  it("every option has a row, under its group's heading, naming the commands that take it", () => {
    for (const name of NAMES) {
      const row: OptionRow = OPTIONS[name];
      const doc = rows.get(flagOf(name));
      assert.ok(doc, `${flagOf(name)} has no row in docs/reference/cli.md: run npm run docs:generate`);
      assert.equal(doc.group, GROUPS[row.group], flagOf(name));
      assert.deepEqual(
        doc.commands,
        COMMANDS.filter((c) => (COMMAND_OPTIONS[c] as readonly OptionName[]).includes(name)),
        flagOf(name),
      );
    }
  });

  it("every row is a real option", () => {
    const real = new Set(NAMES.map(flagOf));
    assert.deepEqual(
      [...rows.keys()].filter((f) => !real.has(f)),
      [],
      "docs/reference/cli.md lists options hail does not have",
    );
  });

  it("shows each default commander applies", () => {
    for (const name of NAMES) {
      const row: OptionRow = OPTIONS[name];
      if (row.default === undefined) continue;
      const cell = rows.get(flagOf(name))?.byDefault ?? "";
      assert.ok(cell.includes(`\`${row.default}\``), `${flagOf(name)}: docs/reference/cli.md's default column says ${JSON.stringify(cell)}, hail uses ${row.default}`);
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

  it("docs/reference/config.md's list of per-target keys is the table's", () => {
    const line = /^Per-target keys: ([^.]*)\./m.exec(CONFIG)?.[1] ?? "";
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
