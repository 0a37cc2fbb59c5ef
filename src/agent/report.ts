// agent: A pass's report: its exit code, health condition, one-line description and metrics record.
import type { PassOutcome } from "../deploy/pass.js";
import type { HailError } from "../errors.js";
import { EXIT } from "../errors.js";
import type { PassRecord } from "../metrics/account.js";
import { oneLine } from "../log.js";
import { NotANixosSystem } from "../nixos/system.js";
import { NotAHomeManagerGeneration } from "../deploy/home-manager.js";

/**
 * How a pass of a target ended: what the pass came to, the error that stopped it, or the failed
 * end of a deployment an earlier run left half done. Everything said about a pass — the
 * one-shot's exit code, /healthz, the result line and the metrics — is read from it here.
 */
export type PassReport = PassOutcome | { kind: "error"; error: HailError } | { kind: "converge-failed" };

/**
 * 0 when the profile is at the selected build, or hail was told to leave it (a hold, a change
 * by hand); 1 when the deployment failed now or failed before and is still skipped; 75 while a
 * staged rollout has not reached this host yet (nothing deployable here yet).
 */
export function passExitCode(report: PassReport): number {
  switch (report.kind) {
    case "error":
      return report.error.exitCode;
    case "converge-failed":
      return EXIT.failed;
    case "deployed":
      return EXIT.ok;
    case "failed":
      return report.error instanceof NotANixosSystem || report.error instanceof NotAHomeManagerGeneration ? report.error.exitCode : EXIT.failed;
    case "unchanged":
      if (report.decision.kind === "wait") return EXIT.notReady;
      return skipsKnownBad(report) ? EXIT.failed : EXIT.ok;
  }
}

/**
 * A target's condition for GET /healthz. `degraded` is the daemon working as designed: the
 * newest build failed here before and is skipped while the build deployed before it is kept
 * (200). `failing` is a pass that failed (an outage, a failed deployment) or a profile left on
 * the known-bad build or on nothing (503). Every condition but `ok` carries its reason.
 */
export type Condition =
  | { condition: "ok" }
  | { condition: "degraded"; reason: string; knownBad: BuildShown; kept: BuildShown }
  | { condition: "failing"; reason: string; error: { kind: string; message: string } };

/** A build as /healthz names it: its Hydra id when hail knows it, and its store path. */
export interface BuildShown {
  buildId: number | null;
  storePath: string;
}

/** `keptBuildId`: the Hydra build id of what the profile holds now, when hail knows it. */
export function passCondition(report: PassReport | null, keptBuildId: number | null): Condition {
  const error = passError(report);
  if (error !== null) return { condition: "failing", reason: error.message, error };
  const skip = report === null ? null : knownBadSkip(report);
  if (skip === null) return { condition: "ok" };
  const { resolution, currentPath } = skip;
  const why = skip.decision.reason;
  const knownBad = { buildId: resolution.buildId, storePath: resolution.storePath };
  if (currentPath === null || currentPath === resolution.storePath) {
    const where = currentPath === null ? "and nothing deployed to keep" : "and still deployed (--no-rollback, or a failed rollback)";
    const message = `build ${resolution.buildId} known-bad ${where}: ${why}`;
    return { condition: "failing", reason: message, error: { kind: "known_bad", message } };
  }
  const kept = { buildId: keptBuildId, storePath: currentPath };
  const keeping = keptBuildId === null ? currentPath : `build ${keptBuildId} (${currentPath})`;
  return { condition: "degraded", reason: `build ${resolution.buildId} known-bad, keeping ${keeping}: ${why}`, knownBad, kept };
}

/** The offered build failed before and is skipped: exit 1, not up to date, degraded at best. */
function skipsKnownBad(report: PassReport): boolean {
  return knownBadSkip(report) !== null;
}

function knownBadSkip(report: PassReport): (Extract<PassReport, { kind: "unchanged" }> & { decision: { kind: "skip" } }) | null {
  if (report.kind !== "unchanged" || report.decision.kind !== "skip" || report.decision.cause !== "failed-before") return null;
  return { ...report, decision: report.decision };
}

/** The error that ended the pass, for /healthz. */
export function passError(report: PassReport | null): { kind: string; message: string } | null {
  if (report?.kind === "error" || report?.kind === "failed") return { kind: report.error.kind, message: report.error.message };
  if (report?.kind === "converge-failed") return { kind: "activation", message: "finishing an interrupted deployment failed" };
  return null;
}

/** The result line of a one-shot (and of a failed pass in the daemon's log): one line. */
export function describePass(outcome: PassOutcome, profile: string): string {
  const { resolution } = outcome;
  switch (outcome.kind) {
    case "deployed":
      return `deployed build ${resolution.buildId} ${resolution.storePath} to ${profile}`;
    case "failed":
      // one line: nix's output tail goes to the log, not into the result line
      return `failed to deploy build ${resolution.buildId} ${resolution.storePath} to ${profile}${outcome.rolledBack ? " (rolled back)" : ""}: ${oneLine(outcome.error.message)}`;
    case "unchanged":
      return outcome.decision.kind === "up-to-date"
        ? `${profile} is up to date at build ${resolution.buildId} ${resolution.storePath}`
        : `${profile} not changed: ${outcome.decision.reason}`;
  }
}


/** What the metrics count of a pass. */
export function passRecord(report: PassReport): PassRecord {
  switch (report.kind) {
    case "converge-failed":
      return { kind: "error", errorKind: "activation" };
    case "error":
      return { kind: "error", errorKind: report.error.kind };
    case "deployed":
      return { kind: "deployed", hookFailures: report.hookFailures };
    case "failed":
      return { kind: "failed", errorKind: report.error.kind, rolledBack: report.rolledBack, hookFailures: report.hookFailures };
    case "unchanged":
      if (report.decision.kind === "stay") return { kind: "checked" };
      // a known-bad path the profile is stuck on (a failed rollback, --no-rollback) is not up to date
      if (skipsKnownBad(report)) return { kind: "unchanged", upToDate: false, knownBadSkip: true };
      return { kind: "unchanged", upToDate: report.currentPath === report.resolution.storePath };
  }
}
