/**
 * Fakes for the seams of a pass: a file system of profile links (and of NixOS systems), a Nix
 * that switches them the way nix-env and switch-to-configuration do, an in-memory state store,
 * a log that keeps its lines. Every call is recorded in order, so a test asserts what ran and
 * what the world looks like after.
 */
import { basename, dirname, resolve } from "node:path";
import type { PassOptions } from "../../src/deploy/pass.js";
import type { ProcessTable } from "../../src/deploy/orphan.js";
import type { HydraApi } from "../../src/resolve/latest.js";
import type { Target } from "../../src/resolve/target.js";
import { sourceKey } from "../../src/resolve/target.js";
import { ActivationFailed, NixCommandFailed } from "../../src/errors.js";
import type { JobUrl } from "../../src/hydra/job-url.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import type { HydraBuild } from "../../src/hydra/schema.js";
import type { Log, LogFields } from "../../src/log.js";
import { profileRefOf } from "../../src/profile/path.js";
import type { Command } from "../../src/nix/commands.js";
import { renderCommand } from "../../src/nix/commands.js";
import { parseGeneration, readProfileTarget } from "../../src/profile/links.js";
import type { ProfileFs } from "../../src/profile/fs.js";
import type { ProcessOptions, ProcessRunner } from "../../src/nix/runner.js";
import type { State } from "../../src/state/schema.js";
import { emptyState, StateSchema } from "../../src/state/schema.js";
import type { StateStore } from "../../src/state/state-store.js";
import { recordSuccess, startAttempt } from "../../src/state/transitions.js";
import { hydraBuild } from "../resolve/builds.js";

export const STORE = "/nix/store";
export const PROFILE = "/profiles/app";
export const NOW = new Date("2026-03-01T12:00:00.000Z");
/** The links a NixOS machine keeps of the system it booted and the one activated last. */
export const BOOTED_SYSTEM = "/run/booted-system";
export const CURRENT_SYSTEM = "/run/current-system";

/** A store path of the fake store: `path("v1")` is /nix/store/<hash>-app-v1. */
export function path(version: string): string {
  return `${STORE}/${version.padStart(32, "0").replace(/[^0-9a-df-np-sv-z]/g, "0")}-app-${version}`;
}

function errno(code: string, syscall: string, p: string): Error {
  return Object.assign(new Error(`${code}: ${syscall} '${p}'`), { code, syscall, path: p });
}

/** Symlinks, plain files and directories by absolute path, with node:fs's errors. */
export class FakeFs implements ProfileFs {
  readonly links = new Map<string, string>();
  readonly files = new Set<string>();
  /** what readFile reads from a file (empty when not given) */
  readonly contents = new Map<string, string>();
  readonly dirs = new Set<string>(["/"]);
  /** owner and mode by path; anything not here is root's, directories 0755 */
  readonly owners = new Map<string, { uid: number; mode: number }>();
  free = Number.MAX_SAFE_INTEGER;
  /** called before each change: throw to make it fail */
  beforeChange: (op: string, p: string) => void = () => {};

  private has(p: string): boolean {
    return this.links.has(p) || this.files.has(p) || this.dirs.has(p);
  }
  async readlink(p: string): Promise<string> {
    const target = this.links.get(p);
    if (target !== undefined) return target;
    throw errno(this.has(p) ? "EINVAL" : "ENOENT", "readlink", p);
  }
  async readdir(dir: string): Promise<string[]> {
    if (!this.dirs.has(dir)) throw errno("ENOENT", "scandir", dir);
    return [...this.links.keys(), ...this.files, ...this.dirs].filter((p) => p !== "/" && dirname(p) === dir).map((p) => basename(p));
  }
  async lstat(p: string) {
    if (!this.has(p)) throw errno("ENOENT", "lstat", p);
    const { uid, mode } = this.owners.get(p) ?? { uid: 0, mode: this.dirs.has(p) ? 0o755 : 0o777 };
    return { isSymbolicLink: () => this.links.has(p), isDirectory: () => this.dirs.has(p), uid, mode };
  }
  async mkdirs(dir: string): Promise<void> {
    this.beforeChange("mkdirs", dir);
    this.addDirs(dir);
  }
  async remove(p: string): Promise<void> {
    this.beforeChange("remove", p);
    this.links.delete(p);
    this.files.delete(p);
  }
  async symlink(target: string, p: string): Promise<void> {
    this.beforeChange("symlink", p);
    if (this.has(p)) throw errno("EEXIST", "symlink", p);
    this.links.set(p, target);
  }
  async rename(from: string, to: string): Promise<void> {
    this.beforeChange("rename", to);
    const target = this.links.get(from);
    if (target === undefined) throw errno("ENOENT", "rename", from);
    this.links.delete(from);
    this.links.set(to, target);
  }
  async freeBytes(): Promise<number> {
    return this.free;
  }
  async realpath(p: string): Promise<string> {
    return this.resolved(p, "realpath");
  }
  async readFile(p: string): Promise<Buffer> {
    const real = this.resolved(p, "open");
    if (this.dirs.has(real)) throw errno("EISDIR", "read", p);
    return Buffer.from(this.contents.get(real) ?? "");
  }
  async exists(p: string): Promise<boolean> {
    return this.realpath(p).then(() => true, () => false);
  }
  async executable(p: string): Promise<boolean> {
    const real = await this.realpath(p).catch(() => null);
    return real !== null && ((await this.lstat(real)).mode & 0o111) !== 0;
  }

  /** `p` with every link on the way followed, as realpath(3) does: ENOENT, ENOTDIR, ELOOP like it. */
  private resolved(p: string, syscall: string, depth = 0): string {
    if (depth > 40) throw errno("ELOOP", syscall, p);
    const parts = p.split("/").filter((part) => part !== "");
    let at = "/";
    for (const [i, part] of parts.entries()) {
      if (this.files.has(at)) throw errno("ENOTDIR", syscall, p);
      const next = resolve(at, part);
      const target = this.links.get(next);
      if (target !== undefined) return this.resolved(resolve(at, target, ...parts.slice(i + 1)), syscall, depth + 1);
      if (!this.has(next)) throw errno("ENOENT", syscall, p);
      at = next;
    }
    return at;
  }

  /** A file with its directories (test set-up, not a change a pass makes). */
  put(p: string, content = ""): void {
    this.addDirs(dirname(p));
    this.files.add(p);
    this.contents.set(p, content);
  }
  /** A symlink with its directories (test set-up). */
  link(p: string, target: string): void {
    this.addDirs(dirname(p));
    this.links.set(p, target);
  }
  private addDirs(dir: string): void {
    for (let d = dir; !this.dirs.has(d); d = dirname(d)) this.dirs.add(d);
  }

  /** What the profile resolves to (null: no profile). */
  at(profile = PROFILE): Promise<string | null> {
    return readProfileTarget(profile, STORE, this);
  }
  /** The generation numbers of the profile, ascending. */
  generations(profile = PROFILE): number[] {
    return [...this.links.keys()]
      .filter((p) => dirname(p) === dirname(profile))
      .map((p) => parseGeneration(basename(profile), p))
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);
  }
  /** Points the profile at a new generation of `storePath`, as `nix-env --set` does. */
  newGeneration(profile: string, storePath: string): number {
    this.dirs.add(dirname(profile));
    const n = (this.generations(profile).at(-1) ?? 0) + 1;
    this.links.set(`${profile}-${n}-link`, storePath);
    this.links.set(profile, `${basename(profile)}-${n}-link`);
    return n;
  }
}

/** A system's switch-to-configuration, run directly or through systemd-run: which system, which action. */
function switchOf(cmd: Command): { system: string; action: string; viaSystemd: boolean } | null {
  const viaSystemd = cmd.file === "systemd-run";
  const [file = "", action = ""] = viaSystemd ? cmd.args.slice(cmd.args.indexOf("--") + 1) : [cmd.file, ...cmd.args];
  return file.endsWith("/bin/switch-to-configuration") ? { system: dirname(dirname(file)), action, viaSystemd } : null;
}

/**
 * A Nix that works on a FakeFs: realise, --set, --switch-generation, --delete-generations,
 * activation, and a NixOS system's switch-to-configuration: `switch` points CURRENT_SYSTEM at
 * the system, `switch` and `boot` make it the boot default (a failing one changes nothing).
 */
export class FakeNix implements ProcessRunner {
  /**
   * every command, in order: nix commands rendered, activations as `activate STORE-PATH build=ID`,
   * switches as `[systemd-run ]switch-to-configuration ACTION SYSTEM build=ID`
   */
  readonly calls: string[] = [];
  /** the system the boot loader starts next (null: none installed by a switch yet) */
  bootDefault: string | null = null;
  /** throws for the commands it returns an error for */
  failNix: (cmd: Command) => Error | null = () => null;
  /** the activation (or health check, hook) of this store path fails with this message */
  failActivation: (storePath: string | null, what: string) => string | null = () => null;
  dryRunOutput = "";

  constructor(readonly fs: FakeFs) {}

  async runNix(cmd: Command): Promise<void> {
    this.calls.push(renderCommand(cmd));
    const failure = this.failNix(cmd);
    if (failure) throw failure;
    const [flag, profile = "", op, ...rest] = cmd.args;
    if (cmd.file !== "nix-env" || flag !== "--profile") return;
    if (op === "--set") this.fs.newGeneration(profile, rest[0] ?? "");
    if (op === "--switch-generation") {
      const link = `${profile}-${rest[0]}-link`;
      if (!this.fs.links.has(link)) throw new NixCommandFailed(`generation ${rest[0]} does not exist`);
      this.fs.links.set(profile, basename(link));
    }
    if (op === "--delete-generations") for (const n of rest) this.fs.links.delete(`${profile}-${n}-link`);
  }

  async captureNix(cmd: Command): Promise<string> {
    this.calls.push(renderCommand(cmd));
    const failure = this.failNix(cmd);
    if (failure) throw failure;
    return this.dryRunOutput;
  }

  async runActivation(cmd: Command, what: string, opts: ProcessOptions): Promise<void> {
    const nixosSwitch = switchOf(cmd);
    if (nixosSwitch !== null) return this.switchSystem(nixosSwitch, opts.env.HAIL_BUILD_ID);
    // an activation runs PROFILE/bin/activate: what it activates is what the profile is now
    const profileBin = cmd.file.endsWith("/bin/activate") ? await this.fs.at(cmd.file.slice(0, -"/bin/activate".length)) : null;
    const storePath = profileBin ?? opts.env.HAIL_STORE_PATH ?? null;
    const build = opts.env.HAIL_BUILD_ID;
    this.calls.push(what === "activation" ? `activate ${storePath} build=${build}` : `${what} ${renderCommand(cmd)}`);
    const failure = this.failActivation(storePath, what);
    if (failure !== null) throw new ActivationFailed(`${what} failed (${failure})`);
  }

  private switchSystem({ system, action, viaSystemd }: NonNullable<ReturnType<typeof switchOf>>, build: string | undefined): void {
    this.calls.push(`${viaSystemd ? "systemd-run " : ""}switch-to-configuration ${action} ${system} build=${build}`);
    const failure = this.failActivation(system, "activation");
    if (failure !== null) throw new ActivationFailed(`activation failed (${failure})`);
    if (action === "switch") this.fs.links.set(CURRENT_SYSTEM, system);
    this.bootDefault = system;
  }
}

/** Process groups by pgid, each alive for a number of checks (Infinity: until signalled); signals are recorded. */
export class FakeProcesses implements ProcessTable {
  readonly alive = new Map<number, number>();
  readonly starts = new Map<number, string>();
  readonly signals: string[] = [];
  /** the group ignores SIGTERM: only SIGKILL ends it */
  ignoreTerm = false;

  async groupAlive(pgid: number): Promise<boolean> {
    const checks = this.alive.get(pgid) ?? 0;
    if (checks <= 0) return false;
    this.alive.set(pgid, checks - 1);
    return true;
  }
  async startTime(pid: number): Promise<string | null> {
    return this.starts.get(pid) ?? null;
  }
  /** the boot id the fake machine runs in */
  boot: string | null = "boot-1";
  async bootId(): Promise<string | null> {
    return this.boot;
  }
  signalGroup(pgid: number, signal: NodeJS.Signals): void {
    this.signals.push(`${signal} ${pgid}`);
    if (signal === "SIGKILL" || !this.ignoreTerm) this.alive.delete(pgid);
  }
}

/** The state file in memory; every write goes through the schema, as the real store's reads do. */
export class MemoryStore implements StateStore {
  readonly file = "/state/app.json";
  writes = 0;
  constructor(public state: State = emptyState("app", PROFILE)) {}
  async read(): Promise<State> {
    return structuredClone(this.state);
  }
  async update(change: (state: State) => State): Promise<State> {
    this.state = StateSchema.parse(JSON.parse(JSON.stringify(change(structuredClone(this.state)))));
    this.writes += 1;
    return structuredClone(this.state);
  }
}

export interface LogLine {
  level: string;
  msg: string;
  fields: LogFields;
}

export function memoryLog(lines: LogLine[] = [], base: LogFields = {}): Log & { lines: LogLine[] } {
  const emit = (level: string) => (msg: string, fields: LogFields = {}) => {
    lines.push({ level, msg, fields: { ...base, ...fields } });
  };
  return { lines, debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error"), child: (fields) => memoryLog(lines, { ...base, ...fields }) };
}

export const TARGET: Target = {
  source: { kind: "job", job: parseJobUrl("https://hydra.example/job/acme/production/app") },
  profile: profileRefOf(PROFILE, "/profiles"),
  output: "out",
};

/** A pass's options in most tests: no rollout, no downgrade, no --confirm-timeout, no hooks. */
export const OPTS: PassOptions = {
  activateTimeoutMs: 60_000,
  healthCheck: null,
  rollback: true,
  minFreeBytes: 0,
  keepGenerations: null,
  hooks: { onSuccess: null, onFailure: null },
  confirmTimeoutMs: null,
  rollout: null,
  allowDowngrade: false,
};

/** A profile with one generation per store path given, the last one current. */
export function worldWith(...generations: string[]) {
  const fs = new FakeFs();
  fs.dirs.add(dirname(PROFILE));
  for (const p of generations) fs.newGeneration(PROFILE, p);
  const nix = new FakeNix(fs);
  const log = memoryLog();
  return { fs, nix, log, processes: new FakeProcesses(), deployDeps: { runner: nix, fs, log, storeDir: STORE } };
}

export const AT = "2026-03-01T11:00:00.000Z";

/** Build `id` of acme/production/app (TARGET's job) with `storePath` as its out. */
export function appBuild(id: number, storePath: string, fields: Partial<HydraBuild> = {}): HydraBuild {
  return hydraBuild({ id, job: "app", buildoutputs: { out: { path: storePath } }, ...fields });
}

/** A Hydra whose latest build of the job is `answer` (or whose every answer is that error); it records its calls. */
export function fakeHydra(first: HydraBuild | Error) {
  const hydra = { answer: first, calls: [] as string[], api: undefined as unknown as HydraApi };
  hydra.api = {
    async latest(job: JobUrl, which) {
      hydra.calls.push(`latest ${which}`);
      if (hydra.answer instanceof Error) throw hydra.answer;
      return { id: hydra.answer.id, job };
    },
    async getBuild(id) {
      hydra.calls.push(`getBuild ${id}`);
      if (hydra.answer instanceof Error || id !== hydra.answer.id) throw new Error(`no build ${id}`);
      return hydra.answer;
    },
    async getConstituents() {
      throw new Error("a job target never asks for constituents");
    },
  };
  return hydra;
}

/** A build reference as TARGET's passes record it. */
export function ref(n: number, storePath: string) {
  return { storePath, buildId: n, gateBuildId: null, evals: [19022], job: "app", stoptime: 1_700_000_200, source: sourceKey(TARGET) };
}

/** What hail's state says after it deployed path("v2") as build 2 over generation 1. */
export function deployedV2(): State {
  const v2 = ref(2, path("v2"));
  return recordSuccess(startAttempt(emptyState("app", PROFILE), v2, { generation: 1, link: "app-1-link", storePath: path("v1") }, AT), v2, AT);
}
