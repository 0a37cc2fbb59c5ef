// nixos: NixOS switch inhibitors: read from the system, compared between generations, described.
import { join } from "node:path";
import { hasErrnoCode } from "../errno.js";
import type { SystemFs } from "../profile/fs.js";

/**
 * NixOS 26.05's switch inhibitors (`system.switch.inhibitors`): a system writes
 * `$toplevel/switch-inhibitors`, and `switch-to-configuration switch|test` refuses (exit 1)
 * when it differs from the running system's; `boot` is not checked. hail compares the bytes
 * and never parses them: the format changed between revisions (a list of store paths, a JSON
 * map), and a file that differs in any byte is one hail must not switch into. A missing file
 * on both sides means no inhibitors; on one side only, they differ.
 */
export const INHIBITORS_FILE = "switch-inhibitors";

/** A system's inhibitors file as `plan` shows it: its size and a short digest, or null when absent. */
export interface InhibitorsFile {
  bytes: number;
  sha256: string;
}

export interface InhibitorsChange {
  booted: InhibitorsFile | null;
  next: InhibitorsFile | null;
}

/** null when the new system's inhibitors are the booted system's (or neither has any). */
export async function inhibitorsChange(fs: SystemFs, system: string, bootedSystem: string): Promise<InhibitorsChange | null> {
  const [next, booted] = await Promise.all([readInhibitors(fs, system), readInhibitors(fs, bootedSystem)]);
  if (next === null && booted === null) return null;
  if (next !== null && booted !== null && next.equals(booted)) return null;
  return { booted: describeFile(booted), next: describeFile(next) };
}

/** "none", or "41 bytes sha256:1a2b3c4d5e6f": enough to tell two files apart in a log line. */
export function describeInhibitors(file: InhibitorsFile | null): string {
  return file === null ? "none" : `${file.bytes} bytes sha256:${file.sha256.slice(0, 12)}`;
}

/** The words hail uses wherever it says why: plan, logs. */
export function describeChange(change: InhibitorsChange): string {
  return `switch inhibitors differ (booted: ${describeInhibitors(change.booted)}, new: ${describeInhibitors(change.next)})`;
}

async function readInhibitors(fs: SystemFs, system: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(join(system, INHIBITORS_FILE));
  } catch (err) {
    // a system without inhibitors (before 26.05, or none configured) has no such file
    if (hasErrnoCode(err, "ENOENT") || hasErrnoCode(err, "ENOTDIR")) return null;
    throw err;
  }
}

function describeFile(bytes: Buffer | null): InhibitorsFile | null {
  if (bytes === null) return null;
  // node:crypto loads here, not at start: most passes never look at a system
  const sha256 = process.getBuiltinModule("node:crypto").createHash("sha256").update(bytes).digest("hex");
  return { bytes: bytes.length, sha256 };
}

/**
 * Whether a failed `switch-to-configuration` refused because of the inhibitors, judged from its
 * output. switch-to-configuration-ng names each failed pre-switch check ("Pre-switch check
 * 'switchInhibitors' failed"): the refusal is the inhibitors' only when that is the only check
 * that failed (another check, an operator's own guard, must stay a failure). Earlier revisions
 * printed no name, only the advice "set NIXOS_NO_CHECK=1 to ignore …" after a text about the
 * inhibitors. hail takes that advice never: it makes the system the boot default instead.
 */
export function inhibitorRefusal(output: string): boolean {
  const failedChecks = [...output.matchAll(/Pre-switch check '([^']*)' failed/g)].map((m) => m[1]);
  if (failedChecks.length > 0) return failedChecks.every((name) => name === "switchInhibitors");
  return /set NIXOS_NO_CHECK=1 to ignore/.test(output) && /switch inhibitors|critical components of the system/i.test(output);
}
