// daemon: Which signals the daemon survives and what each one does.
import type { Log } from "../log.js";

/**
 * hail's answers to signals (docs/security.md, "Signals"). Each signal gets one listener, installed the
 * first time hail gives it an answer and never removed; the answer behind it can change (a
 * daemon that is still starting notes a SIGTERM, the running loop stops on it).
 *
 * Never removed, because removing the last listener of a signal does not restore what Node
 * did before: libuv puts the signal back to its default action (SIGUSR1, SIGHUP, SIGUSR2,
 * SIGALRM: terminate; SIGQUIT: core dump). For SIGUSR1 the bundle's first line
 * (src/build/bundle.mjs) already installed a listener of its own that does nothing, so no hail
 * command ever lets Node's default SIGUSR1 handler open the inspector; the daemon's "poll now"
 * answer here comes on top of it.
 */
export type SignalAnswer = (signal: NodeJS.Signals) => void;

const answers = new Map<NodeJS.Signals, SignalAnswer>();

function dispatch(signal: NodeJS.Signals): void {
  answers.get(signal)?.(signal);
}

/** From now on `signal` runs `answer` (instead of the answer it had). */
export function answerSignal(signal: NodeJS.Signals, answer: SignalAnswer): void {
  if (!answers.has(signal)) process.on(signal, dispatch);
  answers.set(signal, answer);
}

/** The signals a deployment must never die of half done: default action is to terminate hail. */
export const SURVIVED_SIGNALS = ["SIGHUP", "SIGUSR2", "SIGQUIT", "SIGALRM"] as const;

/**
 * `hail run`, one-shot and daemon alike, from the moment it has a log: none of these signals
 * ends hail in the middle of an activation, a rollback or the recording of a result.
 * - SIGHUP: a note that the configuration is read only at start (a restart applies changes; a
 *   re-read while running would have to swap targets, locks and the metrics listener under a
 *   running deployment), and hail carries on.
 * - SIGUSR2, SIGALRM: hail gives them no meaning; a warning, and hail carries on. Not a stop:
 *   a daemon that stopped would exit 0, which systemd's Restart=on-failure does not restart.
 * - SIGQUIT: the daemon stops like on SIGTERM (`stopDaemon` below replaces this answer); a
 *   one-shot finishes its pass, which is all the running step there is.
 */
export function surviveSignals(log: Log, oneshot: boolean): void {
  for (const signal of SURVIVED_SIGNALS) answerSignal(signal, (s) => log.warn(survivedMessage(s, oneshot)));
}

function survivedMessage(signal: NodeJS.Signals, oneshot: boolean): string {
  const goOn = oneshot ? "this one-shot pass carries on to its end" : "hail carries on";
  if (signal === "SIGHUP") return `received SIGHUP: hail reads its configuration only when it starts; restart it to apply changes (${goOn})`;
  if (signal === "SIGQUIT") return `received SIGQUIT: ${goOn}; hail never stops in the middle of a deployment`;
  return `received ${signal}: hail gives this signal no meaning and ignores it (${goOn}); SIGTERM stops the daemon after the running step, SIGUSR1 polls now`;
}

/**
 * Whether node runs with --disable-sigusr1, from its own command line (`process.execArgv`) or
 * NODE_OPTIONS. On Node 24 that flag does more than keep the inspector shut: node blocks
 * SIGUSR1 in its threads, so the signal stays pending and no `process.on("SIGUSR1")` listener
 * ever runs: the daemon's "poll now" (`systemctl reload`) is gone. Node reads NODE_OPTIONS
 * first and its command line after, and the last mention wins: `--no-disable-sigusr1` turns it
 * off again; node takes `_` for `-` in an option's name and any `=value` as on.
 */
export function sigusr1Disabled(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  let disabled = false;
  for (const arg of [...splitNodeOptions(nodeOptions ?? ""), ...execArgv]) {
    const name = (arg.split("=", 1)[0] ?? "").replaceAll("_", "-");
    if (name === "--disable-sigusr1") disabled = true;
    else if (name === "--no-disable-sigusr1") disabled = false;
  }
  return disabled;
}

/** NODE_OPTIONS' words: split at white space, a double-quoted part kept whole (node's own rule). */
function splitNodeOptions(options: string): string[] {
  return [...options.matchAll(/(?:"(?:[^"\\]|\\.)*"|[^\s"])+/g)].map((m) => m[0].replace(/"((?:[^"\\]|\\.)*)"/g, (_, inner: string) => inner.replace(/\\(.)/g, "$1")));
}

/** The daemon's warning at start when `sigusr1Disabled`: what is lost, and the two ways out. */
export function sigusr1DisabledWarning(nodeVersion: string): string {
  return `node ${nodeVersion} runs with --disable-sigusr1 (on its command line or in NODE_OPTIONS): under this flag it swallows SIGUSR1, ` +
    "so neither SIGUSR1 nor `systemctl reload` can make this daemon poll now; " +
    "use POST /poll on --metrics-listen, or start the daemon without the flag as the Nix package's bin/hail-daemon and nix/systemd/hail@.service do " +
    "(hail's own SIGUSR1 listener already keeps Node's inspector shut)";
}
