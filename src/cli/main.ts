#!/usr/bin/env node
// cli: The program's entry: routes argv to a command (lazy-loaded) and is the one place that prints
// `hail: …` and exits.
import { Command, CommanderError } from "commander";
import { EXIT, InternalError, asHailError } from "../errors.js";
import type { CommandName, OptionValues, COMMAND_OPTIONS } from "./option-table.js";
import { addOptions } from "./option-table.js";
import { printableMessage } from "../log.js";
import { commanderFailure, failureLine, pasteable } from "./failure-line.js";
import { routeArgs } from "./route.js";
import { commandWords, summaryOf } from "./command-list.js";
import { helpAfter, programHelpAfter } from "./help.js";
import { versionText } from "../build-info.js";

/** Every command name and alias, for routeArgs (the program is built after routing). */
const COMMANDS = commandWords();

/** The CLI wiring: thin, and handlers are loaded only by the command that needs them. */
function buildProgram(setExit: (code: number) => void, runIsDefault: boolean): Command {
  const program = new Command("hail")
    .description("Pull-based continuous deployment for Nix: keep a profile at the newest good Hydra build")
    .version(versionText())
    .exitOverride()
    .showSuggestionAfterError()
    // commander's "error: …" lines become the one `hail: …` line (exitCodeFor); help still prints
    .configureOutput({ outputError: () => undefined })
    .addHelpText("after", programHelpAfter());

  // `deploy`: the word operators reach for (and the suggestion for a typo of it)
  addOptions(program.command("run", { isDefault: runIsDefault }).alias("deploy").description(summaryOf("run")), "run")
    .addHelpText("after", helpAfter("run"))
    .action(async (opts: OptionsOf<"run">, cmd: Command) => {
      const { runCommand } = await import("./run.js");
      setExit(await runCommand(opts, cmd));
    });

  addOptions(program.command("plan").description(summaryOf("plan")), "plan")
    .addHelpText("after", helpAfter("plan"))
    .action(async (opts: OptionsOf<"plan">, cmd: Command) => {
      const { planCommand } = await import("./plan.js");
      setExit(await planCommand(opts, cmd));
    });

  addManageOptions(program.command("status").description(summaryOf("status")), "status")
    .addHelpText("after", helpAfter("status"))
    .action(async (profile: string | undefined, opts: OptionsOf<"status">, cmd: Command) => {
      const { statusCommand } = await import("./manage.js");
      setExit(await statusCommand(profile, opts, typedIn(cmd)));
    });

  addManageOptions(program.command("hold").description(summaryOf("hold")), "hold")
    .addHelpText("after", helpAfter("hold"))
    .action(async (profile: string | undefined, opts: OptionsOf<"hold">, cmd: Command) => {
      const { holdCommand } = await import("./manage.js");
      setExit(await holdCommand(profile, opts, typedIn(cmd)));
    });

  addManageOptions(program.command("release").description(summaryOf("release")), "release")
    .addHelpText("after", helpAfter("release"))
    .action(async (profile: string | undefined, opts: OptionsOf<"release">, cmd: Command) => {
      const { releaseCommand } = await import("./manage.js");
      setExit(await releaseCommand(profile, opts, typedIn(cmd)));
    });

  addOptions(program.command("sign").description(summaryOf("sign")), "sign")
    .addHelpText("after", helpAfter("sign"))
    .action(async (opts: OptionsOf<"sign">, cmd: Command) => {
      const { signCommand } = await import("./sign.js");
      setExit(await signCommand(opts, cmd));
    });

  program
    .command("completion")
    .argument("<shell>", "bash, zsh or fish")
    .description(summaryOf("completion"))
    .action(async (shell: string) => {
      const { completionScript } = await import("./completion.js");
      process.stdout.write(completionScript(shell));
    });

  return program;
}

/** Options the operator typed override a config file's (docs/reference.md, "Config file"). */
function typedIn(cmd: Command): (option: string) => boolean {
  return (option) => cmd.getOptionValueSource(option) === "cli";
}

/** What commander hands a command's action: its options from the table. */
type OptionsOf<C extends CommandName> = OptionValues<(typeof COMMAND_OPTIONS)[C][number]>;

/** Shared by status, hold and release; kept here so --help needs no handler module. */
function addManageOptions(cmd: Command, command: "status" | "hold" | "release"): Command {
  return addOptions(cmd.argument("[profile]", "profile name or absolute path (or --profile)"), command);
}

/** The one place that exits (codes: docs/reference.md, "Exit codes"). */
async function main(argv: string[]): Promise<never> {
  let code = 0;
  const route = routeArgs(argv.slice(2), COMMANDS);
  try {
    await buildProgram((c) => (code = c), route.runIsDefault).parseAsync(route.args, { from: "user" });
  } catch (err) {
    code = exitCodeFor(err, commandOf(route.args, route.runIsDefault));
  }
  // A pipe takes 64 KiB at once; exit() would cut off what is still queued (a big plan --json).
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

/** Resolves once everything written to the stream so far has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}

/** The command the words name (for "run hail plan --help"), or null when they name none. */
function commandOf(args: readonly string[], runIsDefault: boolean): string | null {
  const [first] = args;
  if (runIsDefault) return "run";
  return first !== undefined && first !== "help" && COMMANDS.includes(first) ? first : null;
}

/**
 * The one place that prints the `hail: <what failed>: <why> (<hint>)` line that ends every
 * failed command (SPEC section 9): every command throws what it cannot go on with, also a
 * one-shot or a plan whose targets failed (CommandFailed).
 */
function exitCodeFor(err: unknown, command: string | null): number {
  if (err instanceof CommanderError) {
    // help and version are not errors; bare `hail` has printed the usage, and says why it stops
    if (err.exitCode === 0) return EXIT.ok;
    const failure =
      err.code === "commander.help"
        ? { message: "no command given", hint: `run ${pasteable(["--help"])} for the commands` }
        : commanderFailure(err, command);
    process.stderr.write(failureLine(failure));
    return EXIT.usage;
  }
  const known = asHailError(err);
  if (known instanceof InternalError) {
    // a bug: the stack first, for the report; the line last, as for every failure
    process.stderr.write(`${printableMessage(known.message)}\n`);
    process.stderr.write(failureLine({ message: known.message.split("\n")[0] ?? "", hint: "a bug in hail: please report it with the lines above" }));
    return known.exitCode;
  }
  process.stderr.write(failureLine(known));
  return known.exitCode;
}

// not awaited: the bundle runs this as CommonJS (src/build/bundle.mjs), and main() ends the process itself
void main(process.argv);
