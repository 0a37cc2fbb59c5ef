// cli: Every command and its options, in the shape completion scripts and the reference need.
import type { CommandName, Group, OptionRow } from "./option-table.js";
import { OPTIONS, flagOf, optionNamesOf, rowIn } from "./option-table.js";

/**
 * hail's commands as a reader meets them in `hail --help`, for what is generated from the
 * option table: the man page (man-page.ts) and the shell completions (completion.ts).
 * src/cli/main.ts wires the same commands into commander, with these words and summaries;
 * test/e2e/completion-shells.test.ts checks this list against the built CLI's `hail --help`.
 */
export interface CommandEntry {
  readonly name: string;
  readonly aliases: readonly string[];
  /** the words after the command in its synopsis, besides options */
  readonly operands: string;
  readonly summary: string;
  /** whose options it takes from the table (none: completion and help) */
  readonly options: CommandName | null;
  /** what its operand completes to: profiles are names or paths, the rest fixed words */
  readonly operand: { kind: "none" } | { kind: "profile" } | { kind: "commands" } | { kind: "words"; words: readonly string[] };
}

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

const PROFILE = { kind: "profile" } as const;

export const COMMAND_LIST: readonly CommandEntry[] = [
  { name: "run", aliases: ["deploy"], operands: "", summary: "deploy: poll forever, or once with --oneshot", options: "run", operand: { kind: "none" } },
  { name: "plan", aliases: [], operands: "", summary: "show what would be deployed; change nothing", options: "plan", operand: { kind: "none" } },
  { name: "status", aliases: [], operands: "[profile]", summary: "deployed build, last error, failure marks, hold", options: "status", operand: PROFILE },
  { name: "hold", aliases: [], operands: "[profile]", summary: "pause deployments of a profile", options: "hold", operand: PROFILE },
  { name: "release", aliases: [], operands: "[profile]", summary: "resume deployments of a profile", options: "release", operand: PROFILE },
  { name: "sign", aliases: [], operands: "", summary: "sign a release: the gate's latest-finished build", options: "sign", operand: { kind: "none" } },
  { name: "completion", aliases: [], operands: "<shell>", summary: "print the completion script for bash, zsh or fish", options: null, operand: { kind: "words", words: SHELLS } },
  { name: "help", aliases: [], operands: "[command]", summary: "display help for command", options: null, operand: { kind: "commands" } },
];

/** The one-line summary `hail --help` shows for a command. */
export function summaryOf(name: string): string {
  const entry = COMMAND_LIST.find((c) => c.name === name);
  if (entry === undefined) throw new Error(`no command ${name} in COMMAND_LIST`);
  return entry.summary;
}

/** Every word that names a command, aliases included, in the order of `hail --help`. */
export function commandWords(): string[] {
  return COMMAND_LIST.flatMap((c) => [c.name, ...c.aliases]);
}

/** What an option's value completes to. */
export type ValueKind = { kind: "switch" } | { kind: "file" } | { kind: "dir" } | { kind: "words"; words: readonly string[] } | { kind: "text" };

/** One option of one command as the man page and the completions show it. */
export interface OptionSpec {
  /** `--gate-job` */
  readonly long: string;
  /** `url` for `--gate-job <url>`; null for a switch */
  readonly placeholder: string | null;
  readonly help: string;
  readonly default: string | null;
  readonly value: ValueKind;
  /** its heading; null for --help, which commander lists under "Options" */
  readonly group: Group | null;
}

/** commander gives every command --help; it is not in the table. */
const HELP: OptionSpec = { long: "--help", placeholder: null, help: "display help for the command", default: null, value: { kind: "switch" }, group: null };

/** A command's options: its rows of the table, group by group as its --help shows them, then --help. */
export function optionsOf(entry: CommandEntry): OptionSpec[] {
  if (entry.options === null) return [HELP];
  const command = entry.options;
  const rows = optionNamesOf(command).map((name): OptionSpec => {
    const row: OptionRow = OPTIONS[name];
    const here = rowIn(name, command);
    const placeholder = /<([^>]+)>/.exec(here.flag)?.[1] ?? null;
    return { long: flagOf(name), placeholder, help: here.help, default: here.default ?? null, value: valueKind(row, placeholder), group: here.group };
  });
  return [...rows, HELP];
}

/** Paths complete to files or directories, a fixed set of values to those; the rest (URLs, names, durations) to nothing. */
function valueKind(row: OptionRow, placeholder: string | null): ValueKind {
  if (placeholder === null) return { kind: "switch" };
  if (Array.isArray(row.file?.value)) return { kind: "words", words: row.file.value };
  if (placeholder === "dir") return { kind: "dir" };
  if (["path", "file", "name|path"].includes(placeholder)) return { kind: "file" };
  return { kind: "text" };
}

/** The fixed words a command's operand completes to (`completion bash`, `help plan`). */
export function operandWords(entry: CommandEntry): readonly string[] {
  if (entry.operand.kind === "words") return entry.operand.words;
  if (entry.operand.kind === "commands") return commandWords().filter((w) => w !== entry.name);
  return [];
}
