// metrics: Counting one pass into the metrics state (deployments, rollbacks, errors by kind).
import type { MetricsState } from "../state/schema.js";

/** What one pass ended with, as far as metrics care. */
export type PassRecord =
  | { kind: "deployed"; hookFailures?: number }
  | { kind: "failed"; errorKind: string; rolledBack: boolean; hookFailures?: number }
  /** `knownBadSkip`: the offered build failed here before and was skipped */
  | { kind: "unchanged"; upToDate: boolean; knownBadSkip?: boolean }
  /** Hydra offered an older build than the deployed one: nothing is said about the profile */
  | { kind: "checked" }
  | { kind: "error"; errorKind: string };

/** Pure: the metrics after a pass that ended at `at`. */
export function accountPass(m: MetricsState, pass: PassRecord, at: string): MetricsState {
  const next: MetricsState = { ...m, lastCheckAt: at };
  switch (pass.kind) {
    case "deployed":
      return {
        ...next,
        upToDate: true,
        lastSuccessAt: at,
        deployments: { ...m.deployments, success: m.deployments.success + 1 },
        hookFailures: m.hookFailures + (pass.hookFailures ?? 0),
      };
    case "failed":
      return {
        ...next,
        upToDate: false,
        deployments: { ...m.deployments, failed: m.deployments.failed + 1 },
        rollbacks: m.rollbacks + (pass.rolledBack ? 1 : 0),
        errors: bump(m.errors, pass.errorKind),
        hookFailures: m.hookFailures + (pass.hookFailures ?? 0),
      };
    case "unchanged":
      return {
        ...next,
        upToDate: pass.upToDate,
        lastSuccessAt: pass.upToDate ? at : m.lastSuccessAt,
        knownBadSkips: m.knownBadSkips + (pass.knownBadSkip === true ? 1 : 0),
      };
    case "checked":
      return next;
    case "error":
      // A Hydra outage says nothing about the profile: up_to_date keeps its last value.
      return { ...next, errors: bump(m.errors, pass.errorKind) };
  }
}

function bump(errors: Record<string, number>, kind: string): Record<string, number> {
  return { ...errors, [kind]: (errors[kind] ?? 0) + 1 };
}

/** Whether the change is worth a state-file write: counters and up_to_date, not timestamps. */
export function countersChanged(a: MetricsState, b: MetricsState): boolean {
  return (
    a.upToDate !== b.upToDate ||
    a.rollbacks !== b.rollbacks ||
    a.hookFailures !== b.hookFailures ||
    a.knownBadSkips !== b.knownBadSkips ||
    a.deployments.success !== b.deployments.success ||
    a.deployments.failed !== b.deployments.failed ||
    JSON.stringify(a.errors) !== JSON.stringify(b.errors)
  );
}
