// build: Generates docs/reference/cli.md from the option table, command list and examples.
import { COMMAND_LIST } from "../cli/command-list.js";
import { EXAMPLES } from "../cli/help-examples.js";
import type { CommandName, Group, OptionName, OptionRow } from "../cli/option-table.js";
import { COMMAND_OPTIONS, GROUPS, OPTIONS } from "../cli/option-table.js";
import { GENERATED, code, page, table } from "./markdown.js";
import { OPTION_DOCS } from "./option-docs.js";
import { ADDING_AN_OPTION, COMMAND_STRINGS_TEXT, DURATIONS_TEXT, MANAGE_TEXT, SYNOPSIS, TARGET_TEXT } from "./reference-cli-text.js";

const COMMANDS = Object.keys(COMMAND_OPTIONS) as CommandName[];

/**
 * docs/reference/cli.md: every command, and every option under the heading --help gives it,
 * with the commands that take it, its default and what it does.
 */
export function cliReference(): string {
  return page([
    GENERATED,
    "# Command line",
    "Every command and option of hail, grouped as `hail COMMAND --help` groups them; `man hail` says the same. " +
      "The config file's keys: [config.md](config.md); exit codes: [exit-codes.md](exit-codes.md); the rest of the reference: [../reference.md](../reference.md).",
    "## Synopsis",
    fence("", SYNOPSIS),
    TARGET_TEXT,
    MANAGE_TEXT,
    "## Commands",
    table(
      ["command", "what it does"],
      COMMAND_LIST.map((c) => [[c.name, ...c.aliases].map((w) => code(`hail ${w}`)).join(", "), c.summary]),
    ),
    "## Options",
    "Options are listed under the headings `--help` shows them under. Each table says which commands take an option; a default is what hail uses when the option is not given.",
    ...(Object.keys(GROUPS) as Group[]).flatMap(groupSection),
    "## Durations",
    DURATIONS_TEXT,
    "## Commands given as strings",
    COMMAND_STRINGS_TEXT,
    "## Examples",
    ...EXAMPLES.flatMap((e) => [e.what, fence("sh", e.lines.join("\n"))]),
    "## Adding an option",
    ADDING_AN_OPTION,
  ]);
}

function groupSection(group: Group): string[] {
  const names = (Object.keys(OPTIONS) as OptionName[]).filter((n) => (OPTIONS[n] as OptionRow).group === group);
  if (names.length === 0) return [];
  return [`### ${GROUPS[group]}`, table(["option", "commands", "default", "meaning"], names.map(optionRow))];
}

function optionRow(name: OptionName): string[] {
  const row: OptionRow = OPTIONS[name];
  const docs = OPTION_DOCS[name] ?? {};
  const takenBy = COMMANDS.filter((c) => (COMMAND_OPTIONS[c] as readonly OptionName[]).includes(name));
  const byDefault = docs.default ?? (row.default === undefined ? "" : code(row.default));
  const elsewhere = Object.entries(row.helpIn ?? {}).map(([command, help]) => `With ${code(command)}: ${help}.`);
  const meaning = [`${row.help}.`, ...elsewhere, ...(docs.details === undefined ? [] : [docs.details])].join(" ");
  return [code(row.flag), takenBy.map(code).join(", "), byDefault, meaning];
}

function fence(language: string, text: string): string {
  return `\`\`\`${language}\n${text}\n\`\`\``;
}
