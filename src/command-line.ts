// root basics: Splitting a command line given as one string (hooks, --nixos commands) into argv,
// without a shell.
import { parse } from "shell-quote";
import { UsageError } from "./errors.js";

/**
 * Splits an operator's command string (--health-check, hooks) into an argv with shell-like
 * quoting, but no shell: variables stay literal, and pipes, redirections or globs are refused
 * rather than passed on as odd arguments.
 */
export function splitCommandLine(text: string, flag: string): string[] {
  if (/[\r\n]/.test(text)) {
    throw new UsageError(`${flag}: a line break separates commands in a shell, and hail runs commands without one`, "give one command, or wrap several in a script");
  }
  const words: string[] = [];
  for (const entry of parse(text, (name) => `$${name}`)) {
    if (typeof entry === "string") {
      words.push(entry);
      continue;
    }
    const what = "op" in entry ? `"${entry.op === "glob" ? entry.pattern : entry.op}"` : "a comment";
    throw new UsageError(
      `${flag}: ${what} needs a shell, and hail runs commands without one; ` +
        `wrap it in a script, or use sh -c '...' explicitly`,
    );
  }
  if (words.length === 0) throw new UsageError(`${flag}: empty command`);
  return words;
}
