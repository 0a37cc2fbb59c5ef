// cli: What `hail status` says of a profile: read from its link and its state, written nowhere.
import { activeHold } from "../resolve/decide.js";
import { storeDirFromEnv } from "../resolve/store-path.js";
import { currentGeneration, readProfileTarget } from "../profile/links.js";
import type { ProfileRef } from "../profile/path.js";
import type { State } from "../state/schema.js";
import { stateStoreFor } from "../state/profile-files.js";
import { retryCommand } from "./failure-line.js";
import { describeRelease, waitingReason } from "../release/confirm.js";

/** What `hail status` says of a profile: read from its link and its state, written nowhere. */
export interface StatusReport {
  profile: string;
  profilePath: string;
  generation: number | null;
  currentPath: string | null;
  changedOutsideHail: boolean;
  lastDeployed: State["lastDeployed"];
  lastAttempt: State["lastAttempt"];
  lastError: State["lastError"];
  failed: State["failed"];
  hold: State["hold"];
  rebootPending: State["rebootPending"];
  /** --release-manifest: the release the last pass verified, and whether a newer build waits for a signature */
  release: State["release"];
}

export async function statusOf(profile: ProfileRef, stateDir: string): Promise<StatusReport> {
  const state = await stateStoreFor(profile, stateDir).read();
  const currentPath = await readProfileTarget(profile.path, storeDirFromEnv(process.env));
  return {
    profile: profile.name,
    profilePath: profile.path,
    generation: await currentGeneration(profile.path),
    currentPath,
    changedOutsideHail: state.lastDeployed !== null && currentPath !== state.lastDeployed.storePath,
    lastDeployed: state.lastDeployed,
    lastAttempt: state.lastAttempt,
    lastError: state.lastError,
    failed: state.failed,
    hold: activeHold(state.hold, new Date()),
    rebootPending: state.rebootPending,
    release: state.release,
  };
}

/** `dirs`: the directory flags given, which the retry command carries to act on the same state. */
export function renderStatus(r: StatusReport, dirs: readonly string[]): string {
  const rows: [string, string][] = [
    ["profile", `${r.profile} (${r.profilePath})`],
    ["current", r.currentPath ? `generation ${r.generation ?? "?"}: ${r.currentPath}` : "(no profile yet)"],
    ["deployed", r.lastDeployed ? `${describeBuild(r.lastDeployed)} at ${r.lastDeployed.at}` : "(nothing yet)"],
  ];
  if (r.changedOutsideHail) rows.push(["note", "the profile was changed outside hail since its last deployment"]);
  if (r.lastAttempt) {
    const a = r.lastAttempt;
    const result = a.endedAt === null ? "did not finish (hail stopped during it)" : `${a.result}${a.error ? `: ${a.error}` : ""}`;
    rows.push(["last attempt", `${describeBuild(a)} at ${a.startedAt}: ${result}`]);
  }
  if (r.release) rows.push(["release", `${describeRelease(r.release)} (${r.release.url})`]);
  if (r.release?.waiting) rows.push(["waiting", `since ${r.release.waiting.since}: ${waitingReason(r.release.waiting.gateBuildId, r.release.build)}`]);
  if (r.lastError) rows.push(["last error", `${r.lastError.kind} at ${r.lastError.at}: ${r.lastError.message}`]);
  rows.push(["hold", r.hold ? `held since ${r.hold.since}${r.hold.until ? ` until ${r.hold.until}` : ""}${r.hold.reason ? `: ${r.hold.reason}` : ""}` : "none"]);
  if (r.rebootPending) rows.push(["reboot", `pending since ${r.rebootPending.since} into ${r.rebootPending.storePath} (${r.rebootPending.changed.join(", ")} changed)`]);
  const lines = rows.map(([k, v]) => `${`${k}:`.padEnd(14)}${v}`);
  if (r.failed.length > 0) {
    lines.push(`known bad (not retried; to retry, run ${retryCommand(r.profile, dirs)}):`);
    for (const f of r.failed) lines.push(`  ${f.storePath} (build ${f.buildId}) at ${f.at}: ${f.reason}`);
  }
  return `${lines.join("\n")}\n`;
}

function describeBuild(b: { buildId: number; gateBuildId: number | null; evals: number[]; storePath: string }): string {
  const gate = b.gateBuildId === null ? "" : `, gate ${b.gateBuildId}`;
  return `build ${b.buildId}${gate}, evals ${b.evals.join(",") || "-"}: ${b.storePath}`;
}
