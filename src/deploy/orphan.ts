import { readdir, readFile } from "node:fs/promises";
import type { Log } from "../log.js";
import type { State } from "../state/schema.js";
import type { StateStore } from "../state/state-store.js";
import { processStartTime } from "../state/lock.js";

const KILL_GRACE_MS = 5_000;
const POLL_MS = 200;

/** How hail sees and signals the processes of an activation: /proc and kill(2), a fake in tests. */
export interface ProcessTable {
  /** the group has live (not zombie) members */
  groupAlive(pgid: number): Promise<boolean>;
  /** the process's start time (null when it is gone or off Linux) */
  startTime(pid: number): Promise<string | null>;
  signalGroup(pgid: number, signal: NodeJS.Signals): void;
}

/**
 * An activation runs in its own process group, outside hail's, so a hail killed with -9 leaves
 * it running. Its group is in the state file while it runs; the next run waits for it (up to
 * --activate-timeout) or kills it before it converges, so two activations never overlap.
 */
export async function settleOrphanedActivation(deps: { store: StateStore; log: Log; processes: ProcessTable }, timeoutMs: number): Promise<void> {
  const { activation } = await deps.store.read();
  if (activation === null) return;
  const { pgid } = activation;
  const processes = deps.processes;
  if (await stillOurs(processes, activation)) {
    deps.log.warn(`an activation started by an earlier run (process group ${pgid}) is still running; waiting up to ${timeoutMs / 1000}s for it`);
    if (await waitForGroup(processes, pgid, timeoutMs)) {
      deps.log.info(`the earlier activation (process group ${pgid}) finished; going on`);
    } else {
      processes.signalGroup(pgid, "SIGTERM");
      if (!(await waitForGroup(processes, pgid, KILL_GRACE_MS))) processes.signalGroup(pgid, "SIGKILL");
      await waitForGroup(processes, pgid, KILL_GRACE_MS);
      deps.log.warn(`killed the earlier activation (process group ${pgid}): still running after ${timeoutMs / 1000}s`);
    }
  }
  await deps.store.update((s) => ({ ...s, activation: null }));
}

/** The group still has live members, and its leader (when there) is the process hail started. */
async function stillOurs(processes: ProcessTable, activation: NonNullable<State["activation"]>): Promise<boolean> {
  if (!(await processes.groupAlive(activation.pgid))) return false;
  const leaderStart = await processes.startTime(activation.pgid);
  return leaderStart === null || activation.processStart === null || leaderStart === activation.processStart;
}

async function waitForGroup(processes: ProcessTable, pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await processes.groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return true;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone meanwhile
  }
}

/** Live (not zombie) members of the group, from /proc: an exited child nobody reaped does not count. */
async function groupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if (typeof err === "object" && err !== null && "code" in err && err.code === "ESRCH") return false;
  }
  for (const name of await readdir("/proc").catch(() => [])) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    const [state = "", , group = ""] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(group) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

export const liveProcesses: ProcessTable = { groupAlive, startTime: processStartTime, signalGroup };
