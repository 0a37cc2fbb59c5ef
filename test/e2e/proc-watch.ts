// What a test can see of a hail process through /proc: the TCP sockets it listens on, whether a
// signal sent to it is still pending, whether it is stopped, and when a process has exited.
import { readdir, readFile, readlink } from "node:fs/promises";
import os from "node:os";
import { loggedActivation } from "./world.js";

/** Inodes of the sockets in LISTEN state, from /proc/net/tcp and tcp6 (field 4 is the state, 0A is LISTEN; field 10 the inode). */
async function listeningInodes(): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const row of text.split("\n").slice(1)) {
      const fields = row.trim().split(/\s+/);
      if (fields[3] === "0A" && fields[9] !== undefined) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** The listening TCP sockets among the open descriptors of `pid` (socket inodes). */
export async function listeningSocketsOf(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  const own = new Set<string>();
  for (const fd of fds) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ""));
    if (m?.[1] !== undefined) own.add(m[1]);
  }
  const listening = await listeningInodes();
  return [...own].filter((inode) => listening.has(inode));
}

/**
 * Samples `pid`'s listening sockets until `stop()`; `found()` is every socket seen that was not
 * in `baseline` (the sockets before the signal, say a --metrics-listen socket).
 */
export function watchListeners(pid: number, baseline: string[]): { stop(): Promise<string[]> } {
  const seen = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const inode of await listeningSocketsOf(pid)) if (!baseline.includes(inode)) seen.add(inode);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return [...seen];
    },
  };
}

/** The signal is no longer pending for `pid` (neither for the process nor its main thread): it was delivered. */
export async function signalDelivered(pid: number, signal: NodeJS.Signals): Promise<boolean> {
  const number = os.constants.signals[signal];
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const mask = (field: string) => BigInt(`0x${new RegExp(`^${field}:\\s*([0-9a-f]+)$`, "m").exec(status)?.[1] ?? "0"}`);
  const bit = 1n << BigInt(number - 1);
  return (mask("ShdPnd") & bit) === 0n && (mask("SigPnd") & bit) === 0n;
}

/** The process state letter from /proc/PID/stat (R, S, T stopped, Z exited and not reaped…), or null when gone. */
export async function processState(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  return stat === null ? null : (stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? null);
}

/** What Node prints when SIGUSR1 opened (or tried to open) its inspector. */
export const INSPECTOR_MESSAGE = /Debugger listening on|Starting inspector on/;

/**
 * bin/activate that writes its pid to `$SIG_DIR/started-<name>` and waits for `$SIG_DIR/go-<name>`
 * (name: its store path's basename), so a test can signal hail while an activation runs.
 */
export const WAITING_ACTIVATION = loggedActivation(
  ['name="${out##*/}"', 'echo $$ > "$SIG_DIR/started-$name"', 'while [ ! -e "$SIG_DIR/go-$name" ]; do sleep 0.05; done'].join("\n"),
);
