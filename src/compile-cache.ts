// V8's code cache for hail's bundle. Compiling the bundle is much of what a one-shot command
// costs at start (the bench: `hail plan` about 30 ms of CPU in 120), so dist/hail.mjs is a
// small loader that compiles the rest with node:vm and hands V8 the bytecode it saved after an
// earlier run of the same command. Node's own module.enableCompileCache() was tried first: its
// cache is made when a module is compiled, before anything runs, so it holds only the code V8
// compiles eagerly and saved about a third as much; this cache is made at exit, and holds every
// function the command ran.
//
// A code cache is code: whoever can write it runs code in hail, which runs as root. So the
// cache is read only from a directory and a file that the running user owns and nobody else can
// write, below directories that only root or that user can change; anything else is ignored.
// Nothing here may fail a command: without a usable cache, hail compiles its bundle as before.
import { closeSync, constants, existsSync, fstatSync, readFileSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join } from "node:path";
import { Script } from "node:vm";
import { runningUid, untrustedOwnerOrMode } from "./trusted-file.js";

/** The owner and mode of a file, as lstat/fstat give them. */
export interface Owned {
  uid: number;
  mode: number;
}

/** hail's commands (src/cli/main.ts); `deploy` is run's alias. */
const COMMANDS = new Set(["run", "plan", "status", "hold", "release", "sign", "completion"]);
const HELP = new Set(["-h", "--help", "-V", "--version", "help"]);
/** No cache file hail writes is near this; a bigger one is not read. */
const MAX_CACHE_BYTES = 64 * 1024 ** 2;

/**
 * Pure: which cache a command line uses. Each command runs other code, and V8 saves only what
 * ran, so each has its own. The command is the first argument (options first mean run, the
 * default command); help and version share one, and anything else (a typo) one more, so that
 * neither spoils a command's cache.
 */
export function cacheCommand(args: readonly string[]): string {
  if (args.some((a) => HELP.has(a))) return "help";
  const first = args[0];
  if (first === undefined || first.startsWith("-") || first === "deploy") return "run";
  return COMMANDS.has(first) ? first : "other";
}

/**
 * Pure: where the cache lives. systemd's CacheDirectory= (its $CACHE_DIRECTORY, the hail
 * units' choice), else the XDG cache directory ($XDG_CACHE_HOME, else ~/.cache), else for
 * root /var/cache/hail; relative paths are ignored, as the XDG specification says.
 */
export function cacheDirectory(env: NodeJS.ProcessEnv, uid: number): string | null {
  const systemd = env["CACHE_DIRECTORY"]?.split(":")[0];
  if (systemd !== undefined && isAbsolute(systemd)) return systemd;
  const xdg = env["XDG_CACHE_HOME"];
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, "hail");
  const home = env["HOME"];
  if (home !== undefined && isAbsolute(home)) return join(home, ".cache", "hail");
  return uid === 0 ? "/var/cache/hail" : null;
}

/** Pure: 32-bit FNV-1a in hex, a short name for a long key (node:crypto would cost every start). */
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, "0");
}

/**
 * Pure: the cache file's name. V8 refuses a cache made by another V8 or with other flags, and
 * tells a changed bundle only by its length, so the build's own hash of the code comes first.
 */
export function cacheFileName(buildId: string, command: string, runtime: { version: string; arch: string; execArgv: readonly string[] }): string {
  return `${buildId}-${command}-${fnv1a([runtime.version, runtime.arch, ...runtime.execArgv].join("\0"))}.v8cache`;
}

/**
 * Pure: a directory on the way to the cache may be root's or the user's, not writable by others
 * (unless sticky and root's, as /tmp): the rule profile directories follow (trusted-file.ts).
 */
export function trustedAncestor(info: Owned, uid: number): boolean {
  return untrustedOwnerOrMode(info, uid, { stickyRoot: true }) === null;
}

/** Pure: the cache directory and its files must be the running user's own, and nobody else may write them. */
export function trustedOwn(info: Owned, uid: number, type: number): boolean {
  return (info.mode & constants.S_IFMT) === type && info.uid === uid && untrustedOwnerOrMode(info, uid) === null;
}

/** `dir` with its real path, when it and every directory above it may be trusted as ancestors; else null. */
function trustedAncestors(dir: string, uid: number): string | null {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return null;
  }
  for (let up = real; ; up = dirname(up)) {
    if (!trustedAncestor(lstatSync(up), uid)) return null;
    if (dirname(up) === up) return real;
  }
}

/** The cache directory, when it exists and is to be trusted, with every directory above it. */
function trustedDirectory(dir: string, uid: number): string | null {
  const real = trustedAncestors(dir, uid);
  return real !== null && trustedOwn(lstatSync(real), uid, constants.S_IFDIR) ? real : null;
}

/**
 * Makes the cache directory (and ~/.cache, nothing further up) 0700 where it is missing, but
 * never below a directory hail would not trust: `sudo` keeps a user's HOME, and root must not
 * leave a directory of its own in there.
 */
function makeCacheDirectory(dir: string, uid: number): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (existsSync(parent) ? trustedAncestors(parent, uid) === null : trustedAncestors(dirname(parent), uid) === null) return;
  if (!existsSync(parent)) mkdirSync(parent, { mode: 0o700 });
  mkdirSync(dir, { mode: 0o700 });
}

/** The cache file's bytes, when there is one to trust; opened without following a link or blocking. */
function readCache(file: string, uid: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!trustedOwn(info, uid, constants.S_IFREG) || info.size > MAX_CACHE_BYTES) return undefined;
    const data = Buffer.allocUnsafe(info.size);
    let length = 0;
    while (length < data.length) {
      const n = readSync(fd, data, length, data.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return data.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the cache (made 0600 in a 0700 directory, whatever the umask) and drops other builds'
 * caches. V8 serialises the code (`data`) only once the directory is known to be usable.
 */
function writeCache(dir: string, name: string, buildId: string, data: () => Buffer, uid: number): void {
  makeCacheDirectory(dir, uid);
  const real = trustedDirectory(dir, uid);
  if (real === null) return;
  const temp = join(real, `.${name}.${process.pid}.tmp`);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      const bytes = data();
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(real, name));
  } catch (err) {
    unlinkSync(temp);
    throw err;
  }
  for (const old of readdirSync(real)) {
    if (old.endsWith(".v8cache") && !old.startsWith(`${buildId}-`)) unlinkSync(join(real, old));
  }
}

const PROGRAM_START = Buffer.from("\n/*hail-program\n");
const PROGRAM_END = Buffer.from("\n*/\n");

/**
 * Pure: the program from the bytes of dist/hail.mjs, where src/build/bundle.mjs put it: in the
 * comment at the end, with each "*\/" carried as "*", U+00B7, "/".
 */
export function programIn(file: Buffer): string {
  const start = file.lastIndexOf(PROGRAM_START);
  const end = file.lastIndexOf(PROGRAM_END);
  if (start < 0 || end < start) throw new Error("dist/hail.mjs carries no program: rebuild it (npm run build)");
  return file.toString("utf8", start + PROGRAM_START.length, end).replaceAll("*\u00b7/", "*/");
}

/**
 * Runs the program (CommonJS, wrapped in a function by the build) that `filename`, this very
 * file, carries, with the cached bytecode when there is a trusted cache, and saves a new cache
 * when the process exits if there was none or V8 refused it.
 */
export function runBundle(filename: string, buildId: string): void {
  const source = programIn(readFileSync(filename));
  const uid = runningUid();
  let dir: string | null = null;
  let name = "";
  let cached: Buffer | undefined;
  try {
    dir = cacheDirectory(process.env, uid);
    name = cacheFileName(buildId, cacheCommand(process.argv.slice(2)), { version: process.version, arch: process.arch, execArgv: process.execArgv });
    const real = dir === null ? null : trustedDirectory(dir, uid);
    cached = real === null ? undefined : readCache(join(real, name), uid);
  } catch {
    cached = undefined;
  }
  const script = new Script(source, { filename, ...(cached === undefined ? {} : { cachedData: cached }) });
  if (dir !== null && (cached === undefined || script.cachedDataRejected === true)) {
    const at = dir;
    process.once("exit", () => {
      try {
        writeCache(at, name, buildId, () => script.createCachedData(), uid);
      } catch {
        // a read-only or full file system, a directory hail may not trust: no cache, same command
      }
    });
  }
  const module = { exports: {} };
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename));
}
