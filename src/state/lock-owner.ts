// state: Where a lock's holder runs (host, machine-id, boot id, pid namespace), to tell a live
// holder from a stale one.
import { constants } from "node:fs";
import { readFile, readlink } from "node:fs/promises";
import { hostname, uptime } from "node:os";

/**
 * Where a lock's holder runs, as far as a lock file can say. A host name alone is not enough:
 * a renamed host would respect its own dead locks for ever, and two containers may share one.
 * /etc/machine-id names the installation (it survives renames and reboots),
 * /proc/sys/kernel/random/boot_id the running kernel (a pid means something only within one
 * boot), and /proc/self/ns/pid the pid namespace (a container sees only its own pids).
 */
export interface MachinePlace {
  hostname: string;
  /** null where neither /etc/machine-id nor /var/lib/dbus/machine-id holds one */
  machineId: string | null;
  bootId: string | null;
  pidNamespace: string | null;
}

/** The place of a lock's holder: what a lock file records (older ones only the host name). */
export interface HolderPlace {
  hostname: string;
  machineId?: string | null | undefined;
  bootId?: string | null | undefined;
  pidNamespace?: string | null | undefined;
  /** when the lock was taken (ISO 8601) */
  since: string;
}

/**
 * What hail may conclude from a lock's place:
 * - `local`: its pid can be looked up here (alive, or dead or recycled: stale);
 * - `earlier-boot`: this machine before its last boot: stale whatever its pid;
 * - `elsewhere`: another machine or container; its pid cannot be checked, so it is respected.
 */
export type Whereabouts = { kind: "local" } | { kind: "earlier-boot" } | { kind: "elsewhere"; why: string };

/**
 * Pure: where the holder of a lock runs, seen from `here`, a machine that booted at
 * `bootStartedAt` (ms since the epoch).
 */
export function whereIs(holder: HolderPlace, here: MachinePlace, bootStartedAt: number): Whereabouts {
  const bothIds = holder.machineId != null && here.machineId !== null;
  if (bothIds ? holder.machineId !== here.machineId : holder.hostname !== here.hostname) {
    const id = bothIds ? `, machine-id ${holder.machineId}` : "";
    return { kind: "elsewhere", why: `another machine (host ${holder.hostname}${id}) sharing this directory` };
  }
  if (holder.bootId != null && here.bootId !== null && holder.bootId !== here.bootId) {
    // Taken before this boot began: this machine's, before a reboot. Taken since, by a kernel
    // that is not this one: another machine with the same machine-id (a cloned image).
    if (!(Date.parse(holder.since) >= bootStartedAt)) return { kind: "earlier-boot" };
    return {
      kind: "elsewhere",
      why: `another running machine with this machine's machine-id (host ${holder.hostname}, boot ${holder.bootId}, a cloned image?): give each machine its own /etc/machine-id (systemd-machine-id-setup)`,
    };
  }
  // Same kernel, another pid namespace: a container restarted under its own name looks up its
  // old pid as before; another container (another name) cannot be checked from here.
  const otherNamespace = holder.pidNamespace != null && here.pidNamespace !== null && holder.pidNamespace !== here.pidNamespace;
  if (otherNamespace && holder.hostname !== here.hostname) {
    return { kind: "elsewhere", why: `another container on this machine (host ${holder.hostname}, ${holder.pidNamespace})` };
  }
  return { kind: "local" };
}

let cached: Promise<MachinePlace> | null = null;

/** This process's place, read once. */
export function thisPlace(): Promise<MachinePlace> {
  cached ??= readPlace();
  return cached;
}

const SYSTEM_FILES = { machineIds: ["/etc/machine-id", "/var/lib/dbus/machine-id"], bootId: "/proc/sys/kernel/random/boot_id" };

/**
 * The machine-id is systemd's /etc/machine-id, else D-Bus's older copy; where neither holds
 * one (a minimal container, a first boot), it is null and the host name alone tells this
 * machine's locks from others', as it did before machine-ids were recorded.
 */
export async function readPlace(files = SYSTEM_FILES): Promise<MachinePlace> {
  let machineId: string | null = null;
  for (const file of files.machineIds) machineId ??= await readId(file, /^[0-9a-f]{32}$/);
  const bootId = await readId(files.bootId, /^[0-9a-f-]{36}$/);
  const pidNamespace = await readlink("/proc/self/ns/pid").catch(() => null);
  return { hostname: hostname(), machineId, bootId, pidNamespace };
}

/** The id in `file`, or null when it is missing, empty or "uninitialized" (a first boot). */
async function readId(file: string, shape: RegExp): Promise<string | null> {
  try {
    // non-blocking: a FIFO there answers EAGAIN instead of stalling hail
    const id = (await readFile(file, { encoding: "utf8", flag: constants.O_RDONLY | constants.O_NONBLOCK })).trim();
    return shape.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** When this machine booted (ms since the epoch), from its uptime. */
export function bootStartedAt(): number {
  return Date.now() - uptime() * 1000;
}
