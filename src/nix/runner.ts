// nix: Running a Nix command (execa, never a shell): timeouts, redacted logs, typed failures.
import { procStatFields } from "../proc-stat.js";
import { ActivationFailed, CacheUnavailable, NixCommandFailed } from "../errors.js";
import type { Command } from "./commands.js";
import { renderCommand } from "./commands.js";
import { redactCredentials } from "../secrets.js";
import { formatDuration } from "../duration.js";

export interface ProcessOptions {
  /** added to the environment hail was started with */
  env: Record<string, string>;
  timeoutMs: number;
  onLine: (line: string) => void;
  /** told the process group once it runs (the state file records it), and null once it ended */
  onGroup?: (pgid: number | null) => Promise<void>;
}

/** The only place hail starts processes. Tests count calls through `onSpawn`. */
export interface ProcessRunner {
  /** runs a nix command to completion; throws NixCommandFailed */
  runNix(cmd: Command): Promise<void>;
  /** runs a read-only nix command and returns its output (stdout and stderr); throws NixCommandFailed */
  captureNix(cmd: Command): Promise<string>;
  /** runs an activation or health check in its own process group; throws ActivationFailed */
  runActivation(cmd: Command, what: string, opts: ProcessOptions): Promise<void>;
}

const KILL_GRACE_MS = 5_000;

/**
 * execa (and the Node built-ins it loads) is imported when the first process starts, not
 * when hail starts: `hail plan` and the daemon's up-to-date passes start none, and loading
 * it cost every `hail plan` several milliseconds (docs/performance.md).
 */
async function loadExeca(): Promise<typeof import("execa").execa> {
  return (await import("execa")).execa;
}

export function createProcessRunner(onSpawn: (cmd: Command) => void = () => {}): ProcessRunner {
  const capture = async (cmd: Command): Promise<string> => {
    onSpawn(cmd);
    const execa = await loadExeca();
    const result = await execa(cmd.file, cmd.args, { reject: false, stdin: "ignore", all: true });
    if (result.failed) {
      // Outside text (a cache's answer that Nix repeats) enters hail's messages here: redacted.
      const output = result.all ?? "";
      const tail = redactCredentials(output.trim().split("\n").slice(-5).join("\n"));
      const why = result.exitCode === undefined ? result.shortMessage : `exit ${result.exitCode}`;
      const message = `\`${renderCommand(cmd)}\` failed (${why})${tail ? `:\n${tail}` : ""}`;
      const outage = cacheOutage(output);
      if (outage !== null) throw new CacheUnavailable(`binary cache unavailable: ${redactCredentials(outage)}; ${message}`);
      throw new NixCommandFailed(message);
    }
    return result.all ?? "";
  };
  return {
    async runNix(cmd) {
      await capture(cmd);
    },
    captureNix: capture,

    async runActivation(cmd, what, opts) {
      onSpawn(cmd);
      const execa = await loadExeca();
      // detached: its own process group, so a timeout can kill everything it started,
      // and a Ctrl-C meant for hail does not cut an activation short.
      const child = execa(cmd.file, cmd.args, {
        env: opts.env,
        detached: true,
        cleanup: false,
        reject: false,
        stdin: "ignore",
        all: true,
        buffer: false,
      });
      // noted while the output is read: a line the activation prints at once must not be lost
      const noted = child.pid !== undefined && opts.onGroup ? opts.onGroup(child.pid) : Promise.resolve();
      let timedOut = false;
      let ended = false;
      const killGroup = (signal: NodeJS.Signals) => {
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, signal);
          } catch {
            // already gone
          }
        }
      };
      const timer = setTimeout(() => {
        // A hail that was stopped (SIGSTOP, a paused VM) past the deadline wakes up with this
        // timer due before it has handled the child's exit: an activation that has exited is
        // judged by its exit status, not called late. What it left running that still holds
        // its output is ended all the same, or hail would wait for it for ever.
        void hasExited(child).then((exited) => {
          if (ended) return;
          timedOut = !exited;
          killGroup("SIGTERM");
          setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS).unref();
        });
      }, opts.timeoutMs);
      let reason: string | undefined;
      try {
        for await (const raw of child.iterable({ from: "all" })) {
          const line = redactCredentials(raw);
          reason ??= reasonLine(line);
          opts.onLine(line);
        }
        const result = await child;
        if (timedOut) throw new ActivationFailed(`${what} timed out after ${formatDuration(opts.timeoutMs)} and was killed`);
        if (result.failed) {
          const why = result.code === "ENOENT" ? "not found" : result.exitCode !== undefined ? `exit ${result.exitCode}` : result.shortMessage;
          throw new ActivationFailed(`${what} \`${renderCommand(cmd)}\` failed (${why})${reason === undefined ? "" : `: ${reason}`}`);
        }
      } finally {
        ended = true;
        clearTimeout(timer);
        await noted;
        if (child.pid !== undefined) await opts.onGroup?.(null);
      }
    },
  };
}

/**
 * The one line a service profile's `bin/activate` (nix/lib, docs/services.md) prints to say why
 * it failed, e.g. `hail-services: myapp-web.service: not healthy within 30s`: it goes into
 * hail's failure line, so the operator reads the unit and the reason without the journal lines
 * that follow it in the log. The first such line wins; any other activation just fails by
 * its exit status, as before.
 */
const REASON_PREFIX = "hail-services: ";
const REASON_MAX = 300;

function reasonLine(line: string): string | undefined {
  if (!line.startsWith(REASON_PREFIX)) return undefined;
  const text = line.trim();
  return text.length > REASON_MAX ? `${text.slice(0, REASON_MAX)}…` : text;
}

/**
 * The child has exited: Node has seen its exit, or it is a zombie (exited, not yet reaped:
 * its exit is still waiting in the event loop behind the timer).
 */
async function hasExited(child: { pid?: number | undefined; exitCode: number | null; signalCode: NodeJS.Signals | null }): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  if (child.pid === undefined) return true;
  return (await procStatFields(child.pid))?.[0] === "Z";
}

/**
 * Nix 2.8 says "unable to download 'URL': Couldn't connect to server (7)", "…: HTTP error 500
 * (…)" or "…: Timeout was reached (28)" when a substituter cannot be reached, then gives up on
 * that cache as if it did not have the path ("don't know how to build these paths"). A cache
 * that answers 404 for a narinfo simply does not have it: Nix prints no such line then.
 */
function cacheOutage(output: string): string | null {
  for (const match of output.matchAll(/unable to download '([^']*)': ([^\n;]*)/g)) {
    const [, url = "", why = ""] = match;
    if (!/HTTP error 404/.test(why)) return `${url}: ${why.trim()}`;
  }
  return null;
}
