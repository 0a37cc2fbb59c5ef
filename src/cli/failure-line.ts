// cli: The one `hail: …` line printed for a failure, with a command to paste that retries it.
import type { CommanderError } from "commander";
import { quote } from "shell-quote";
import type { ErrorKind, ExitCode, HailError } from "../errors.js";
import { CommandFailed } from "../errors.js";
import { escapeControls, oneLine } from "../log.js";

/**
 * The one plain line every failed command ends with on stderr, whatever --log-format says
 * (SPEC section 9): `hail: <what failed>: <why> (<hint>)`. A message of many lines (the tail
 * of nix's output) is joined into one, so that the last line of stderr is always this one.
 */
export function failureLine(err: { message: string; hint: string | null }): string {
  const hint = err.hint === null || err.hint === "" ? "" : ` (${printableLine(err.hint)})`;
  return `hail: ${printableLine(err.message)}${hint}\n`;
}

/** One line, and nothing in it a terminal would act on. */
function printableLine(text: string): string {
  return escapeControls(oneLine(text));
}

/** A command an operator can paste as it is: `hail WORD…`, every word shell-quoted. */
export function pasteable(words: readonly string[]): string {
  return quote(["hail", ...words]);
}

/** The command that lets hail try a known-bad build of `profile` again, with the directory flags given. */
export function retryCommand(profile: string, dirs: readonly string[]): string {
  return pasteable(["release", profile, "--clear-failed", ...dirs]);
}

/** The directory options a hint's command must carry to act on the same files. */
export interface GivenDirs {
  config?: string | undefined;
  stateDir?: string | undefined;
  profilesDir?: string | undefined;
}

const DIR_FLAGS = [
  ["config", "--config"],
  ["stateDir", "--state-dir"],
  ["profilesDir", "--profiles-dir"],
] as const;

/**
 * The directory flags the operator typed (`typed` says which), as words for a hint: a hint
 * without them would act on the default /var/lib/hail, not on the state this run used.
 */
export function givenDirFlags(opts: GivenDirs, typed: (option: string) => boolean): string[] {
  const words: string[] = [];
  for (const [key, flag] of DIR_FLAGS) {
    const value = opts[key];
    if (value !== undefined && typed(key)) words.push(flag, value);
  }
  return words;
}

/** A failure of one target, as a one-shot or a plan of many targets collects them. */
export interface TargetFailure {
  profile: string;
  /** the exit code this target alone would end with */
  exitCode: number;
  kind: ErrorKind;
  /** what failed and why, naming the profile */
  message: string;
  hint: string | null;
}

export function targetFailureOf(profile: string, err: HailError): TargetFailure {
  return { profile, exitCode: err.exitCode, kind: err.kind, message: `${profile}: ${err.message}`, hint: err.hint };
}

/**
 * The failures of a command over `total` targets as one error with the command's exit code:
 * one target's line names it; several are listed in one line, with the most urgent one's hint
 * (or `hintForMany`, a command that shows them all).
 */
export function targetsFailed(failures: readonly TargetFailure[], total: number, exitCode: number, hintForMany: string | null): CommandFailed {
  const code = exitCode as ExitCode;
  const first = failures.find((f) => f.exitCode === code) ?? failures[0];
  if (first === undefined) return new CommandFailed(`failed with exit code ${exitCode}`, code, "internal", null);
  if (failures.length === 1 && total === 1) return new CommandFailed(first.message, code, first.kind, first.hint);
  const listed = failures.map((f) => f.message).join("; ");
  return new CommandFailed(`${failures.length} of ${total} targets failed: ${listed}`, code, first.kind, failures.length === 1 ? first.hint : (hintForMany ?? first.hint));
}

/**
 * Commander's own errors (an unknown command or option, a missing value) in the same form:
 * its "error: …" and "(Did you mean …?)" lines become one line, with where to read the usage.
 */
export function commanderFailure(err: CommanderError, command: string | null): { message: string; hint: string } {
  const [first = "", ...more] = err.message.split("\n").map((l) => l.trim()).filter(Boolean);
  const message = first.replace(/^error: /, "").replace(/\.$/, "");
  const suggestion = more.map((l) => l.replace(/^\((.*)\)$/, "$1").replace(/^Did you/, "did you")).join(" ");
  const usage = `run ${pasteable(command === null ? ["--help"] : [command, "--help"])} for usage`;
  return { message, hint: suggestion === "" ? usage : `${suggestion} ${usage}` };
}
