// Process measurements for the benchmark: wall time of a command from spawn to exit, and a
// running process's CPU time and memory as the kernel reports them in /proc.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";

export interface TimedRun {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `file args` (no shell) and measures spawn → exit; stdin is closed, output collected. */
export function timedRun(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ ms: performance.now() - started, code, stdout, stderr }));
  });
}

/**
 * `env` without what would change a Node child's start-up: tsx's loader, a test runner's
 * context, extra CA certificates (about 70 ms per start on this machine, not hail's), and
 * code cache places from outside (hail's goes where each measurement's HOME or XDG_CACHE_HOME says).
 */
export function cleanNodeEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _options, NODE_TEST_CONTEXT: _test, NODE_EXTRA_CA_CERTS: _certs, CACHE_DIRECTORY: _cache, NODE_COMPILE_CACHE: _compile, ...rest } = env;
  return rest;
}

/**
 * The node that `env` gives hail's shebang line (`#!/usr/bin/env node`): `npm run bench` puts
 * the pinned node (node_modules/.bin) first on PATH, but a bench started with another node
 * would otherwise compare two runtimes without saying so.
 */
export async function shebangNode(env: NodeJS.ProcessEnv): Promise<{ version: string; path: string }> {
  const r = await timedRun("/usr/bin/env", ["node", "-p", "process.version + ' ' + process.execPath"], env);
  const [version, path] = r.stdout.trim().split(" ");
  if (r.code !== 0 || version === undefined || path === undefined) throw new Error(`/usr/bin/env node: exit ${r.code}\n${r.stderr}`);
  return { version, path };
}

/** Refuses to measure when the shebang's node is not the one running the bench (and its children). */
export async function sameNodeForShebang(env: NodeJS.ProcessEnv): Promise<string> {
  const shebang = await shebangNode(env);
  if (shebang.version !== process.version) {
    throw new Error(`\`hail\` would run on node ${shebang.version} (${shebang.path}) by its shebang, the bench on ${process.version} (${process.execPath}): run it as \`npm run bench\`, which puts the pinned node first on PATH`);
  }
  return `node ${process.version} (${process.execPath}; \`hail\` by its shebang: ${shebang.path})`;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ; 100 on every Linux this runs on (getconf CLK_TCK)

/** utime + stime of a live process, in milliseconds (resolution 10 ms). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based, man 5 proc).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * VmRSS and VmHWM (peak RSS) of a live process, in KiB, and RSS split into anonymous memory
 * (heaps, malloc, stacks) and file pages (the node binary's code and data as far as touched).
 */
export async function memoryKiB(pid: number): Promise<{ rss: number; peak: number; anon: number; file: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: field("VmRSS"), peak: field("VmHWM"), anon: field("RssAnon"), file: field("RssFile") };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `test` every `everyMs` until it holds or `timeoutMs` passes. */
export async function waitFor(test: () => boolean | Promise<boolean>, what: string, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await test()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
