// How a hail run that must stop at once is checked: its exit code, every part the operator
// needs named on stderr, and one clear line (no "unexpected error", no stack trace).
import assert from "node:assert/strict";
import { execa } from "execa";
import { HAIL_BIN, type HailRun } from "../support/cli.js";

/** Only a safety net for runs that must end by themselves at once; never a timing claim. */
export const SAFETY_TIMEOUT_MS = 60_000;

export function assertEnded(r: HailRun, code: number, ...named: (string | RegExp)[]): void {
  assert.equal(r.code, code, r.stderr);
  for (const part of named) {
    if (typeof part === "string") assert.ok(r.stderr.includes(part), `names ${part}: ${r.stderr}`);
    else assert.match(r.stderr, part);
  }
  assert.doesNotMatch(r.stderr, /unexpected error|\n\s+at /, "one clear line, no stack trace");
}

/**
 * The built CLI as runHail runs it, but from `cwd` and with the umask `umask` (through sh,
 * which sets it before it execs node): for what hail makes relative to them.
 */
export async function runHailIn(args: string[], env: NodeJS.ProcessEnv, where: { cwd?: string; umask?: string }): Promise<HailRun> {
  const { NODE_TEST_CONTEXT: _ignored, ...childEnv } = env;
  const hail = [process.execPath, HAIL_BIN, ...args];
  const [file, ...rest] = where.umask === undefined ? hail : ["sh", "-c", `umask ${where.umask}; exec "$@"`, "sh", ...hail];
  const r = await execa(file ?? "", rest, { env: childEnv, extendEnv: false, reject: false, timeout: SAFETY_TIMEOUT_MS, stdin: "ignore", ...(where.cwd === undefined ? {} : { cwd: where.cwd }) });
  if (r.timedOut) throw new Error(`hail ${args.join(" ")} timed out; stderr:\n${r.stderr}`);
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}
