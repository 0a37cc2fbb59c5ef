/**
 * The release manager's side: the manifest's canonical bytes, and FILE.sig made by ssh-keygen
 * itself, so keys in an agent or on a hardware token sign as they sign anything else.
 */
import { EnvironmentError, EXIT, UsageError } from "../errors.js";
import { renderCommand, type Command } from "../nix/commands.js";
import { serverText } from "../server-text.js";
import { RELEASE_NAMESPACE, type ReleaseManifest } from "./manifest.js";

/**
 * The manifest as hail writes it: fields in a fixed order, constituents sorted by name, two
 * spaces of indent (a reviewer reads it), one newline at the end. The signature covers these
 * exact bytes; hosts parse them, so the order is for people, not for verification.
 */
export function buildReleaseManifest(job: string, build: number, constituents: Record<string, string>, expires: Date | null): Uint8Array {
  const sorted = Object.fromEntries(Object.entries(constituents).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const manifest: ReleaseManifest = { "hail-release": 1, job, build, constituents: sorted };
  if (expires !== null) manifest.expires = expires.toISOString().replace(/\.\d{3}Z$/, "Z");
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** `ssh-keygen -Y sign -f KEY -n hail-release FILE`, which writes FILE.sig. */
export function signCommand(file: string, key: string): Command {
  return { file: "ssh-keygen", args: ["-Y", "sign", "-f", key, "-n", RELEASE_NAMESPACE, file] };
}

export interface CommandOutcome {
  /** null when the command could not be started */
  exitCode: number | null;
  /** ENOENT and the like when it could not be started */
  startError: string | null;
  stderr: string;
}

/** Runs one command to its end; never throws for the command's own failure. */
export interface SignRunner {
  run(cmd: Command): Promise<CommandOutcome>;
}

/**
 * The real runner, through execa (never a shell). On a terminal, ssh-keygen may ask for the
 * key's passphrase or a token's touch: it gets the terminal, and its prompts are shown as well
 * as kept for the message. Elsewhere (CI, a pipe) it gets no input and its words are kept only.
 */
export function createSignRunner(interactive: boolean = process.stdin.isTTY === true): SignRunner {
  return {
    async run(cmd) {
      const { execa } = await import("execa");
      const io = interactive ? ({ stdin: "inherit", stderr: ["pipe", "inherit"] } as const) : ({ stdin: "ignore", stderr: "pipe" } as const);
      const result = await execa(cmd.file, cmd.args, { reject: false, stdout: "ignore", ...io });
      // a process that never started has no exit code; its errno (ENOENT) says why
      const code = "code" in result && typeof result.code === "string" ? result.code : (result.shortMessage ?? "could not start");
      const startError = result.exitCode === undefined ? code : null;
      return { exitCode: result.exitCode ?? null, startError, stderr: typeof result.stderr === "string" ? result.stderr : "" };
    },
  };
}

/**
 * Signs FILE with KEY into FILE.sig; 73 when ssh-keygen is missing, 74 with its words when it
 * fails. Messages name `shownAs` (the file the operator asked for, when FILE is a work copy).
 */
export async function signReleaseFile(runner: SignRunner, file: string, key: string, shownAs: string = file): Promise<void> {
  const cmd = signCommand(file, key);
  const outcome = await runner.run(cmd);
  if (outcome.startError !== null) {
    const missing = outcome.startError === "ENOENT";
    throw new EnvironmentError(
      missing ? `cannot sign ${shownAs}: ssh-keygen is not installed (not found on PATH)` : `cannot sign ${shownAs}: ssh-keygen could not be started (${serverText(outcome.startError)})`,
      EXIT.cannotCreate,
      missing ? "install OpenSSH's client (openssh-client on Debian, openssh on NixOS)" : null,
    );
  }
  if (outcome.exitCode !== 0) {
    const said = serverText(outcome.stderr.trim().split("\n").slice(-3).join(" "), 300);
    throw new EnvironmentError(
      `cannot sign ${shownAs}: \`${renderCommand(cmd)}\` failed (exit ${outcome.exitCode})${said === "" ? "" : `: ${said}`}`,
      EXIT.ioError,
      `check --key ${key}: a private key readable by this user without a passphrase prompt, or a public key whose private half is in ssh-agent`,
    );
  }
}

/** --key must name a file: ssh-keygen's own message for a missing one is "No such file". */
export function checkKeyFile(exists: boolean, key: string): void {
  if (!exists) throw new UsageError(`--key ${key}: no such file`, "give the release key's private key file, or its .pub with the private key in ssh-agent");
}
