// deploy: An activation orphaned by a killed hail: found through /proc and stopped before the next
// one starts.
import { readdir } from "node:fs/promises";
import { procStatFields } from "../proc-stat.js";
import type { Log } from "../log.js";
import type { State } from "../state/schema.js";
import type { StateStore } from "../state/state-store.js";
import { processStartTime } from "../state/lock.js";
import { thisPlace } from "../state/lock-owner.js";
import { formatDuration } from "../duration.js";

const KILL_GRACE_MS = 5_000;
const POLL_MS = 200;

/** How hail sees and signals the processes of an activation: /proc and kill(2), a fake in tests. */
export interface ProcessTable {
  /** the group has live (not zombie) members */
  groupAlive(pgid: number): Promise<boolean>;
  /** the process's start time (null when it is gone or off Linux) */
  startTime(pid: number): Promise<string | null>;
  /** this boot's id (null off Linux): a start time is a tick count since boot, so it names a process only within one boot */
  bootId(): Promise<string | null>;
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
  const ours = await stillOurs(processes, activation);
  if (ours.kind === "unverified") {
    deps.log.warn(
      `the state file names process group ${pgid} as an activation started by an earlier run, but ${ours.why}; ` +
        `hail cannot tell it is that activation, so it leaves the group alone and goes on`,
    );
  }
  if (ours.kind === "ours") {
    deps.log.warn(`an activation started by an earlier run (process group ${pgid}) is still running; waiting up to ${formatDuration(timeoutMs)} for it`);
    if (await waitForGroup(processes, pgid, timeoutMs)) {
      deps.log.info(`the earlier activation (process group ${pgid}) finished; going on`);
    } else {
      processes.signalGroup(pgid, "SIGTERM");
      if (!(await waitForGroup(processes, pgid, KILL_GRACE_MS))) processes.signalGroup(pgid, "SIGKILL");
      await waitForGroup(processes, pgid, KILL_GRACE_MS);
      deps.log.warn(`killed the earlier activation (process group ${pgid}): still running after ${formatDuration(timeoutMs)}`);
    }
  }
  await deps.store.update((s) => ({ ...s, activation: null }));
}

type Ownership = { kind: "gone" } | { kind: "ours" } | { kind: "unverified"; why: string };

/**
 * Only a group whose leader is the very process hail started is waited for or killed: the
 * leader still runs, with the start time and in the boot recorded beside the pgid. A state
 * file can be stale (a pgid reused since) or planted; hail runs as root and would otherwise
 * kill whatever root process group now has that number.
 */
async function stillOurs(processes: ProcessTable, activation: NonNullable<State["activation"]>): Promise<Ownership> {
  if (!(await processes.groupAlive(activation.pgid))) return { kind: "gone" };
  const leaderStart = await processes.startTime(activation.pgid);
  if (leaderStart === null) return { kind: "unverified", why: `its leader (pid ${activation.pgid}) is gone while other members still run` };
  if (activation.processStart === null || activation.bootId === null) {
    return { kind: "unverified", why: "the state file does not record the leader's start time and boot id (written by an older hail, or not by hail)" };
  }
  const bootId = await processes.bootId();
  if (bootId !== activation.bootId) return { kind: "unverified", why: `it was recorded in boot ${activation.bootId}, and this is boot ${bootId ?? "(unknown)"}` };
  if (leaderStart !== activation.processStart) {
    return { kind: "unverified", why: `its leader (pid ${activation.pgid}) started at tick ${leaderStart}, not at tick ${activation.processStart} as recorded: another process has that pid now` };
  }
  return { kind: "ours" };
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
    const [state = "", , group = ""] = (await procStatFields(Number(name))) ?? [];
    if (Number(group) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

/** This boot's id (/proc/sys/kernel/random/boot_id, read as the locks read it), recorded beside an activation's pgid (src/deploy/pass.ts). */
export async function currentBootId(): Promise<string | null> {
  return (await thisPlace()).bootId;
}

export const liveProcesses: ProcessTable = { groupAlive, startTime: processStartTime, bootId: currentBootId, signalGroup };
