// cli: The text commander prints after each command's help.
import { EXIT } from "../errors.js";
import { EXIT_NAMES, EXIT_WORDS, plainText } from "./help-exit-codes.js";
import { examplesOf } from "./help-examples.js";
import type { CommandName } from "./option-table.js";

/**
 * What --help prints after commander's list of options: the command's examples, and for the
 * commands that deploy or plan, the exit codes. Lines fit an 80-column terminal
 * (test/cli/help.test.ts); commander wraps its own part to the terminal's width.
 */
export function helpAfter(command: CommandName): string {
  const examples = examplesOf(command).flatMap((e) => ["", `  ${e.what}`, ...e.lines.map((l) => `    ${l}`)]);
  const parts = examples.length === 0 ? [] : ["", "Examples:", ...examples.slice(1)];
  if (command === "run" || command === "plan") parts.push("", "Exit codes:", ...exitCodeLines());
  parts.push("", `The manual: man hail. The reference: docs/reference/ in hail's source.`);
  return parts.join("\n");
}

/** `hail --help` ends by saying where the rest is. */
export function programHelpAfter(): string {
  return ["", "Each command's options, examples and exit codes: hail COMMAND --help.", "The manual: man hail. The documentation: docs/ in hail's source."].join("\n");
}

function exitCodeLines(): string[] {
  return EXIT_NAMES.map((name) => `  ${String(EXIT[name]).padEnd(4)}${plainText(EXIT_WORDS[name].short)}`);
}
