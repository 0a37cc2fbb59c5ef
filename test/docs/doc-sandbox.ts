// How a documented `hail …` command runs in a test: which command and flags it uses (checked
// against the option table), and its words moved into a sandbox — the example's Hydra to the
// test server, every absolute path but a store path under a temp dir, the profiles and state
// dirs to the page's own, a metrics port to a free one. Pure.
import { COMMAND_OPTIONS, flagOf, type CommandName, type OptionName } from "../../src/cli/option-table.js";

export const EXAMPLE_ORIGIN = "https://hydra.example.org";

/** Words that pick a command; anything else (a flag) is `run`, the default command. */
const COMMAND_WORDS: Record<string, CommandName | "help" | "completion"> = {
  run: "run",
  deploy: "run",
  plan: "plan",
  status: "status",
  hold: "hold",
  release: "release",
  sign: "sign",
  help: "help",
  completion: "completion",
};

export interface ReadCommand {
  command: CommandName | "help" | "completion";
  flags: string[];
}

export function readCommand(args: string[]): ReadCommand {
  const command = COMMAND_WORDS[args[0] ?? ""] ?? "run";
  const flags = args.filter((a) => a.startsWith("-")).map((a) => a.split("=")[0] ?? a);
  return { command, flags };
}

/** The flags `command` takes, as an operator types them. */
export function knownFlags(command: ReadCommand["command"], topLevel: boolean): Set<string> {
  const known = new Set(["--help", "-h"]);
  if (topLevel) for (const f of ["--version", "-V"]) known.add(f);
  if (command === "help" || command === "completion") return known;
  for (const name of COMMAND_OPTIONS[command] as readonly OptionName[]) known.add(flagOf(name));
  return known;
}

/** Flags of a command that hail does not know, for the static check. */
export function unknownFlags(args: string[]): string[] {
  const { command, flags } = readCommand(args);
  const topLevel = COMMAND_WORDS[args[0] ?? ""] === undefined;
  const known = knownFlags(command, topLevel);
  return flags.filter((f) => !known.has(f));
}

export interface Sandbox {
  hydraUrl: string;
  /** where absolute paths of the example go: `/etc/hail/x.json` becomes `${root}/etc/hail/x.json` */
  root: string;
  profilesDir: string;
  stateDir: string;
}

/** An absolute path moved under the sandbox; a store path stays (hail reads it, Nix owns it). */
export function sandboxPath(p: string, box: Sandbox): string {
  return p.startsWith("/") && !p.startsWith("/nix/store/") ? `${box.root}${p}` : p;
}

/**
 * The example's words as the test runs them. The profiles and state dirs are always the
 * page's (given by the example or not), so no example can reach /nix/var/nix/profiles.
 */
export function sandboxArgs(args: string[], box: Sandbox): string[] {
  const out: string[] = [];
  const dirs = new Set(["--profiles-dir", "--state-dir"]);
  for (let i = 0; i < args.length; i++) {
    const word = (args[i] ?? "").replaceAll(EXAMPLE_ORIGIN, box.hydraUrl);
    if (dirs.has(word)) {
      i++; // the page's own dirs are added below
    } else if (word === "--metrics-listen") {
      out.push(word, "127.0.0.1:0"); // a free port: other tests may hold the example's
      i++;
    } else {
      out.push(word.startsWith("-") ? word : sandboxPath(word, box));
    }
  }
  const { command } = readCommand(args);
  const takes = command !== "help" && command !== "completion" && !args.includes("--help") && !args.includes("--version");
  if (takes) out.push("--profiles-dir", box.profilesDir, "--state-dir", box.stateDir);
  return out;
}

/** A `run` without `--oneshot` polls forever: the test waits for its first pass, then stops it. */
export function isDaemon(args: string[]): boolean {
  const { command, flags } = readCommand(args);
  return command === "run" && !flags.some((f) => ["--oneshot", "--help", "-h", "--version", "-V"].includes(f));
}

/** A file an example needs (a config file), with its absolute paths and Hydra moved into the sandbox like the commands'. */
export function sandboxFile(content: string, box: Sandbox): string {
  return content.replaceAll(EXAMPLE_ORIGIN, box.hydraUrl).replace(/"(\/(?!nix\/store\/)[^"]*)"/g, (_, p: string) => JSON.stringify(sandboxPath(p, box)));
}
