#!/usr/bin/env -S node --max-semi-space-size=1 --max-old-space-size=128 --optimize-for-size --v8-pool-size=1 --no-opt
import { Command, CommanderError } from "commander";
import { EXIT, asHailError } from "../errors.js";
import { DEFAULT_PROFILES_DIR } from "../nix/profile-path.js";
import type { ManageOptions } from "./manage.js";
import type { RawOptions } from "./options.js";
import { addRunOptions, addTargetOptions, DEFAULT_STATE_DIR } from "./options.js";
import type { PlanFlags } from "./plan.js";
import { printableMessage } from "../log.js";

const VERSION = "0.1.0";

/** The CLI wiring: thin, and handlers are loaded only by the command that needs them. */
function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command("hail")
    .description("Pull-based continuous deployment for Nix: keep a profile at the newest good Hydra build")
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError("(run hail --help for usage)");

  addRunOptions(addTargetOptions(program.command("run", { isDefault: true }).description("deploy: poll forever, or once with --oneshot")))
    .option("--config <file>", "many targets from one JSON file (flags given here override its options)")
    .action(async (opts: RawOptions & { config?: string }, cmd: Command) => {
      const { runCommand } = await import("./run.js");
      setExit(await runCommand(opts, cmd));
    });

  addTargetOptions(program.command("plan").description("resolve and show what would be deployed; change nothing"))
    .option("--config <file>", "plan every target of a config file")
    .option("--json", "print one JSON object")
    .option("--format <format>", "text, json (as --json) or markdown (a table for a CI summary)")
    .option("--detailed-exitcode", "exit 2 when a deployment is pending")
    .option("--fetch", "realise the new closure first so plan can show a closure diff (writes the Nix store)")
    .action(async (opts: RawOptions & PlanFlags & { config?: string }, cmd: Command) => {
      const { planCommand } = await import("./plan.js");
      setExit(await planCommand(opts, cmd));
    });

  addManageOptions(program.command("status").description("what is deployed, from which build; last error; failure marks; hold"))
    .option("--json", "print one JSON object")
    .option("--config <file>", "the status of every target of a config file")
    .action(async (profile: string | undefined, opts: ManageOptions & { json?: boolean; config?: string }, cmd: Command) => {
      const { statusCommand } = await import("./manage.js");
      setExit(await statusCommand(profile, opts, (option) => cmd.getOptionValueSource(option) === "cli"));
    });

  addManageOptions(program.command("hold").description("pause deployments of a profile"))
    .option("--reason <text>", "why, shown by status and plan")
    .option("--until <duration|time>", "release the hold by itself after a duration (2h) or at a time")
    .action(async (profile: string | undefined, opts: ManageOptions & { reason?: string; until?: string }) => {
      const { holdCommand } = await import("./manage.js");
      setExit(await holdCommand(profile, opts));
    });

  addManageOptions(program.command("release").description("resume deployments of a profile"))
    .option("--clear-failed", "also forget known-bad builds, so the next pass may try them again")
    .action(async (profile: string | undefined, opts: ManageOptions & { clearFailed?: boolean }) => {
      const { releaseCommand } = await import("./manage.js");
      setExit(await releaseCommand(profile, opts));
    });

  return program;
}

/** Shared by status, hold and release; kept here so --help needs no handler module. */
function addManageOptions(cmd: Command): Command {
  return cmd
    .argument("[profile]", "profile name or absolute path (or --profile)")
    .option("--profile <name|path>", "Nix profile: a name under --profiles-dir, or an absolute path")
    .option("--profiles-dir <dir>", "where profile names live", DEFAULT_PROFILES_DIR)
    .option("--state-dir <dir>", "state and lock files", DEFAULT_STATE_DIR);
}

/** The one place that exits (SPEC §3 codes). */
async function main(argv: string[]): Promise<never> {
  let code = 0;
  try {
    await buildProgram((c) => (code = c)).parseAsync(argv);
  } catch (err) {
    code = exitCodeFor(err);
  }
  // A pipe takes 64 KiB at once; exit() would cut off what is still queued (a big plan --json).
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

/** Resolves once everything written to the stream so far has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}

/** The one place that prints `hail: …`: every command throws what it cannot go on with. */
function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // help and version are not errors; commander already printed its message
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const known = asHailError(err);
  process.stderr.write(`hail: ${printableMessage(known.message)}\n`);
  return known.exitCode;
}

await main(process.argv);
