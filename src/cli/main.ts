#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { HailError } from "../errors.js";
import type { RawOptions } from "./options.js";
import { addTargetOptions } from "./options.js";
import type { PlanFlags } from "./plan.js";

const VERSION = "0.1.0";

/** The CLI wiring: thin, and handlers are loaded only by the command that needs them. */
function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command("hail")
    .description("Pull-based continuous deployment for Nix: keep a profile at the newest good Hydra build")
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError("(run hail --help for usage)");

  addTargetOptions(program.command("run", { isDefault: true }).description("deploy: poll forever, or once with --oneshot"))
    .action(async (opts: RawOptions) => {
      const { runCommand } = await import("./run.js");
      setExit(await runCommand(opts));
    });

  addTargetOptions(program.command("plan").description("resolve and show what would be deployed; change nothing"))
    .option("--json", "print one JSON object")
    .option("--detailed-exitcode", "exit 2 when a deployment is pending")
    .action(async (opts: RawOptions & PlanFlags) => {
      const { planCommand } = await import("./plan.js");
      setExit(await planCommand(opts));
    });

  return program;
}

/** The one place that exits (SPEC §3 codes). */
async function main(argv: string[]): Promise<never> {
  let code = 0;
  try {
    await buildProgram((c) => (code = c)).parseAsync(argv);
  } catch (err) {
    code = exitCodeFor(err);
  }
  process.exit(code);
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // help and version are not errors; commander already printed its message
    return err.exitCode === 0 ? 0 : 64;
  }
  if (err instanceof HailError) {
    process.stderr.write(`hail: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`hail: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 70;
}

await main(process.argv);
