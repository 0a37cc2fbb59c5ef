// Runs the built CLI (dist/hail.mjs, what `bin` ships) as a subprocess, the way an operator,
// cron or systemd would, and spies on the nix commands it starts.
import { execa } from "execa";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const HAIL_BIN = fileURLToPath(new URL("../../dist/hail.mjs", import.meta.url));

/** node --test marks its children through this variable; hail is not a test file. */
function withoutTestContext(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _ignored, ...rest } = env;
  return rest;
}

export interface HailRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runHail(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<HailRun> {
  const r = await execa(process.execPath, [HAIL_BIN, ...args], { env: withoutTestContext(env), extendEnv: false, reject: false, timeout: timeoutMs, stdin: "ignore" });
  if (r.timedOut) throw new Error(`hail ${args.join(" ")} timed out; stderr:\n${r.stderr}`);
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The commands that are not `run` (the default command): they have no --no-start-spread. */
const NOT_RUN = new Set(["plan", "status", "hold", "release", "help"]);

/**
 * Daemons under test poll at once even on an existing profile (a test waits for that first
 * pass): --no-start-spread, unless a test of the start spread itself asks for the spread.
 */
function spawnHail(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = [], opts: DaemonOptions = {}) {
  const runArgs = opts.startSpread === true || NOT_RUN.has(args[0] ?? "") ? args : [...args, "--no-start-spread"];
  const argv = [...nodeArgs, HAIL_BIN, ...runArgs];
  const options = { env: withoutTestContext(env), extendEnv: false, reject: false, stdin: "ignore" } as const;
  if (opts.maxOpenFiles === undefined) return execa(process.execPath, argv, options);
  // The shell sets the limit and becomes node (exec): the pid is hail's, signals reach it.
  return execa("sh", ["-c", `ulimit -n ${opts.maxOpenFiles} && exec "$0" "$@"`, process.execPath, ...argv], options);
}

export interface DaemonOptions {
  /** started under `ulimit -n` this many descriptors */
  maxOpenFiles?: number;
  /** keep hail's start spread (the first poll spread over the period): only the tests of the spread */
  startSpread?: boolean;
}

/** A daemon under test: its stderr is collected so a test can wait for log lines. */
export class HailDaemon {
  private output = "";
  private constructor(readonly child: ReturnType<typeof spawnHail>) {
    child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** `nodeArgs` go to node before the bundle, as the bundle's shebang line passes them. */
  static start(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = [], opts: DaemonOptions = {}): HailDaemon {
    return new HailDaemon(spawnHail(args, env, nodeArgs, opts));
  }

  get stderr(): string {
    return this.output;
  }

  /** JSON log lines so far, parsed */
  logLines(): Record<string, unknown>[] {
    return this.output
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async waitFor(test: RegExp | (() => boolean | Promise<boolean>), what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ok = test instanceof RegExp ? test.test(this.output) : await test();
      if (ok) return;
      if (!this.alive) throw new Error(`hail exited (${this.child.exitCode}) while waiting for ${what}; stderr:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; stderr:\n${this.output}`);
  }

  get alive(): boolean {
    // a child killed by a signal has no exit code, but a signal code
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
    if (this.child.pid !== undefined && this.alive) process.kill(this.child.pid, signal);
    const r = await this.child;
    return r.exitCode ?? -1;
  }
}

/**
 * PATH wrappers for nix-store and nix-env that log each call and then run the real tool,
 * so a test can say "no nix command ran", and that can be slowed down on request.
 */
export async function makeNixSpy(dir: string): Promise<{ binDir: string; calls(): Promise<string[]> }> {
  const binDir = path.join(dir, "spy-bin");
  const logFile = path.join(dir, "nix-calls.log");
  await mkdir(binDir, { recursive: true });
  await writeFile(logFile, "");
  for (const tool of ["nix-store", "nix-env", "nix"]) {
    const real = (await execa("sh", ["-c", `command -v ${tool}`])).stdout.trim();
    const slow = tool.toUpperCase().replace(/-/g, "_");
    // HAIL_TEST_SLOW_BEFORE_NIX_STORE=5 / HAIL_TEST_SLOW_AFTER_NIX_ENV=5 open a window in which
    // a crash test can kill hail mid-realise or right after the profile switch.
    const script = [
      "#!/bin/sh",
      `printf '%s\\n' "${tool} $*" >> '${logFile}'`,
      `if [ -n "\${HAIL_TEST_SLOW_BEFORE_${slow}:-}" ]; then sleep "$HAIL_TEST_SLOW_BEFORE_${slow}"; fi`,
      `'${real}' "$@"`,
      "rc=$?",
      `if [ -n "\${HAIL_TEST_SLOW_AFTER_${slow}:-}" ]; then sleep "$HAIL_TEST_SLOW_AFTER_${slow}"; fi`,
      'exit "$rc"',
      "",
    ].join("\n");
    await writeFile(path.join(binDir, tool), script);
    await chmod(path.join(binDir, tool), 0o755);
  }
  return {
    binDir,
    async calls() {
      return (await readFile(logFile, "utf8")).split("\n").filter(Boolean);
    },
  };
}

export async function readLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, "utf8")).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}
