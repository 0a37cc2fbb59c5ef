// cli: A failed pass as a CLI failure (exit code and message) for main.ts to print.
import type { PassReport } from "../agent/report.js";
import { describePass, passExitCode } from "../agent/report.js";
import { EXIT } from "../errors.js";
import type { TargetFailure } from "./failure-line.js";
import { pasteable, retryCommand, targetFailureOf } from "./failure-line.js";

/**
 * Why a one-shot's pass of a profile ended non-zero, for the command's last line; null when
 * it did not. `dirs` are the directory flags the operator gave, for hints that act on the same
 * state (`hail release myapp --clear-failed --state-dir /srv/hail`).
 */
export function passFailure(report: PassReport, profile: string, dirs: readonly string[]): TargetFailure | null {
  const exitCode = passExitCode(report);
  if (exitCode === EXIT.ok) return null;
  const status = `run ${pasteable(["status", profile, ...dirs])} for its state`;
  switch (report.kind) {
    case "error":
      return targetFailureOf(profile, report.error);
    case "converge-failed":
      return { profile, exitCode, kind: "activation", message: `${profile}: finishing the deployment an earlier run left half done failed`, hint: status };
    case "failed":
      return { profile, exitCode, kind: report.error.kind, message: describePass(report, profile), hint: report.error.hint ?? status };
    case "unchanged": {
      const knownBad = report.decision.kind === "skip" && report.decision.cause === "failed-before";
      const hint = knownBad ? `to try it again, run ${retryCommand(profile, dirs)}` : null;
      return { profile, exitCode, kind: knownBad ? "activation" : "not_ready", message: describePass(report, profile), hint };
    }
    case "deployed":
      return null;
  }
}
