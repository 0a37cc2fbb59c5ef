// One end-to-end "world": a real Nix lab with a signed binary cache, the Hydra test server
// serving that cache, and a spy on the nix commands hail starts.
import { readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import type { State } from "../../src/state/schema.js";
import { HydraTestServer, type FakeBuild } from "../support/hydra-server.js";
import { createNixLab, type NixLab } from "../support/nix-lab.js";
import { HailDaemon, makeNixSpy, readLines, runHail, type DaemonOptions, type HailRun } from "../support/cli.js";

export interface World {
  lab: NixLab;
  hydra: HydraTestServer;
  env: NodeJS.ProcessEnv;
  activationLog: string;
  gateUrl: string;
  /** the --state-dir of labArgs() */
  stateDir: string;
  /** the lab's Nix environment without the spy, for changes made "by hand" */
  labEnv: NodeJS.ProcessEnv;
  nixCalls(): Promise<string[]>;
  activations(): Promise<string[]>;
  /** a hail daemon (or long one-shot) that close() kills if it is still running */
  startDaemon(args: string[], env?: NodeJS.ProcessEnv, opts?: DaemonOptions): HailDaemon;
  /** hail with --profiles-dir and --state-dir inside the lab */
  hail(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<HailRun>;
  /** common flags: gate target + profile + lab dirs */
  gateArgs(profile: string, constituent?: string): string[];
  labArgs(): string[];
  /** --profiles-dir and --state-dir for status, hold and release */
  manageArgs(): string[];
  profileTarget(profile: string): Promise<string | null>;
  generations(profile: string): Promise<number[]>;
  /** the generation number the profile link points at (P -> P-N-link), or null */
  currentGeneration(profile: string): Promise<number | null>;
  /** STATE_DIR/<key>.json, key as hail makes it from the profile's absolute path */
  stateFile(profile: string): string;
  /** the parsed state file, or null when there is none */
  readState(profile: string): Promise<State | null>;
  /** kills (by pid) the daemons started so far that still run: after a failed test, so it cannot leave one holding a profile lock */
  stopDaemons(): Promise<void>;
  close(): Promise<void>;
}

export async function createWorld(): Promise<World> {
  const lab = await createNixLab();
  const hydra = await HydraTestServer.start({ cacheDir: lab.cacheDir });
  // The jobset exists before its first build, as in Hydra: an empty one is "nothing yet", not a typo.
  hydra.addJobset("myproject", "main");
  const spy = await makeNixSpy(lab.root);
  const activationLog = path.join(lab.root, "activations.log");
  const base = lab.envFor(hydra.url);
  const env = { ...base, PATH: `${spy.binDir}:${process.env.PATH ?? ""}`, HAIL_TEST_ACTIVATION_LOG: activationLog };
  const gateUrl = `${hydra.url}/job/myproject/main/release_gate`;
  const stateDir = path.join(lab.root, "state");
  const labArgs = () => ["--profiles-dir", lab.profilesDir, "--state-dir", stateDir, "--log-format", "json"];
  const daemons: HailDaemon[] = [];
  const stopDaemons = async () => {
    for (const d of daemons) await killIfRunning(d);
  };
  const stateFile = (profile: string) => path.join(stateDir, `${stateKey(path.resolve(lab.profilesDir, profile))}.json`);
  return {
    lab,
    hydra,
    env,
    activationLog,
    gateUrl,
    stateDir,
    labEnv: base,
    nixCalls: () => spy.calls(),
    activations: () => readLines(activationLog),
    hail: (args, extraEnv = {}) => runHail(args, { ...env, ...extraEnv }),
    startDaemon(args, daemonEnv = env, opts = {}) {
      const d = HailDaemon.start(args, daemonEnv, [], opts);
      daemons.push(d);
      return d;
    },
    gateArgs: (profile, constituent = "myapp") => ["--gate-job", gateUrl, "--constituent", constituent, "--profile", profile, ...labArgs()],
    labArgs,
    manageArgs: () => ["--profiles-dir", lab.profilesDir, "--state-dir", stateDir],
    async profileTarget(profile) {
      try {
        const link = path.join(lab.profilesDir, profile);
        return await readlink(path.resolve(path.dirname(link), await readlink(link)));
      } catch {
        return null;
      }
    },
    async generations(profile) {
      const r = await execa("nix-env", ["--profile", path.join(lab.profilesDir, profile), "--list-generations"], { env: base, reject: false });
      return r.stdout
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[0])
        .filter((n): n is string => n !== undefined && /^\d+$/.test(n))
        .map(Number);
    },
    async currentGeneration(profile) {
      try {
        const m = /-(\d+)-link$/.exec(await readlink(path.join(lab.profilesDir, profile)));
        return m?.[1] === undefined ? null : Number(m[1]);
      } catch {
        return null;
      }
    },
    stateFile,
    async readState(profile) {
      try {
        return JSON.parse(await readFile(stateFile(profile), "utf8")) as State;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    },
    stopDaemons,
    async close() {
      await stopDaemons();
      await hydra.close();
      await lab.cleanup();
    },
  };
}

/** The state and lock file key of the profile at `absolutePath`, as hail escapes it. */
export function stateKey(absolutePath: string): string {
  return absolutePath.replace(/^\/+/, "").replace(/%/g, "%25").replace(/\//g, "%2F");
}

/** Hydra API requests (not the binary cache), by path without query, with how often each was made. */
export function apiRequestCounts(hydra: HydraTestServer): Map<string, number> {
  const counts = new Map<string, number>();
  for (const q of hydra.requests) {
    const p = q.path.split("?")[0] ?? q.path;
    if (p.endsWith(".narinfo") || p.startsWith("/nar/") || p === "/nix-cache-info") continue;
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return counts;
}

/** A green gate `id` in eval `evalId` with constituents myapp (`appPath`) and tests. */
export function greenGate(id: number, evalId: number, appPath: string, overrides: Partial<FakeBuild> = {}): FakeBuild[] {
  const base = { project: "myproject", jobset: "main", finished: true, buildstatus: 0, jobsetevals: [evalId] };
  return [
    { ...base, id, job: "release_gate", outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: [id + 1, id + 2], stoptime: 1_700_000_000 + id },
    { ...base, id: id + 1, job: "myapp", outputs: { out: appPath }, ...overrides },
    { ...base, id: id + 2, job: "tests", outputs: { out: "/nix/store/1bq3x6jz9mphgkfs8wrsbkvsy1iw4m57-tests-1.0" } },
  ];
}


/** A `bin/activate` that fails (exit 3) after a line of output: a build that must be rolled back. */
export const FAILING_ACTIVATION = 'echo "activation of $out is failing"\nexit 3';

/** Builds apps, publishes them to the lab's cache and removes them locally, so hail must substitute. */
export async function publishedApps(lab: NixLab, ...specs: { name: string; version: string; activate?: string }[]): Promise<string[]> {
  const paths: string[] = [];
  for (const spec of specs) {
    paths.push(await lab.buildApp(spec.name, spec.version, spec.activate === undefined ? {} : { activate: spec.activate }));
  }
  await lab.publish(...paths);
  await lab.deleteLocal(...paths);
  return paths;
}

/** A world with `myapp` built at each version and published to its cache. */
export async function worldWithApps<V extends string[]>(...versions: V): Promise<{ world: World; apps: { [K in keyof V]: string } }> {
  const world = await createWorld();
  const apps = await publishedApps(world.lab, ...versions.map((version) => ({ name: "myapp", version })));
  return { world, apps: apps as { [K in keyof V]: string } };
}

/**
 * `worldWithApps` with gate build 100 (evaluation 10) green and the first version as its
 * constituent: where most deployment tests start.
 */
export async function worldAtGreenGate<V extends [string, ...string[]]>(...versions: V): Promise<{ world: World; apps: { [K in keyof V]: string } }> {
  const { world, apps } = await worldWithApps(...versions);
  for (const b of greenGate(100, 10, apps[0])) world.hydra.addBuild(b);
  return { world, apps };
}

/**
 * An activation body that runs `prefix` first and then does what the default activation does
 * (one "activated $out build=ID" line on stdout and in the activation log), so a test can see
 * that it ran to the end.
 */
export function loggedActivation(prefix: string): string {
  return [
    prefix,
    'line="activated $out build=${HAIL_BUILD_ID:-}"',
    'echo "$line"',
    'if [ -n "${HAIL_TEST_ACTIVATION_LOG:-}" ]; then echo "$line" >> "$HAIL_TEST_ACTIVATION_LOG"; fi',
  ].join("\n");
}

/** Polls `test` until it holds; a generous timeout instead of a timing assumption. */
export async function waitUntil(test: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface ProcessEntry { pid: number; ppid: number; pgid: number; state: string }

/** Every live (not zombie) process, from /proc: enough to find a group or a subtree by pid. */
async function listProcesses(): Promise<ProcessEntry[]> {
  const entries: ProcessEntry[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, "utf8");
      const [state = "", ppid = "", pgid = ""] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state !== "Z" && state !== "X") entries.push({ pid: Number(name), ppid: Number(ppid), pgid: Number(pgid), state });
    } catch {
      // it exited while we looked
    }
  }
  return entries;
}

/** Live members of process group `pgid`. */
export async function groupMembers(pgid: number): Promise<number[]> {
  return (await listProcesses()).filter((p) => p.pgid === pgid).map((p) => p.pid);
}

/** Live descendants of `pid` (children, their children, …). */
export async function descendantsOf(pid: number): Promise<number[]> {
  const all = await listProcesses();
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const children = all.filter((p) => frontier.includes(p.ppid)).map((p) => p.pid);
    found.push(...children);
    frontier = children;
  }
  return found;
}

/**
 * SIGKILL to processes a test caused, by pid. With `owner` (a lab's root directory, which is in
 * the environment of everything hail starts in that lab) a pid is only hit while its
 * environment names the lab, so a pid the system has handed to another process is left alone.
 */
export async function killPids(pids: number[], owner?: string): Promise<void> {
  for (const pid of pids) {
    if (owner !== undefined) {
      const environ = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
      if (!environ.includes(owner)) continue;
    }
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** SIGKILL to what is left of a process group a test's hail started in the lab `owner`. */
export async function killGroup(pgid: number, owner: string): Promise<void> {
  await killPids(await groupMembers(pgid), owner);
}

/** The exit code of a hail process that should end by itself; one that hangs is killed and fails the test. */
export async function waitForExit(d: HailDaemon, timeoutMs = 60_000): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  const ended = await Promise.race([d.child.then((r) => r.exitCode ?? -1), timeout]);
  clearTimeout(timer);
  if (ended === "timeout") {
    await d.stop("SIGKILL");
    throw new Error(`hail did not exit by itself; stderr:\n${d.stderr}`);
  }
  return ended;
}

/**
 * SIGKILL to a hail the test started, only while it runs. HailDaemon.alive looks at the exit
 * code alone, so it calls a hail killed by a signal alive, and its pid may belong to another
 * process by now.
 */
async function killIfRunning(d: HailDaemon): Promise<void> {
  if (d.alive) await d.stop("SIGKILL");
}
