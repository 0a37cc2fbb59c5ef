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
