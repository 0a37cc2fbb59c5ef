import { convergeInterrupted, activateCurrent } from "../deploy/converge.js";
import { settleOrphanedActivation } from "../deploy/orphan.js";
import type { PassDeps, PassOptions, PassOutcome, TargetSession } from "../deploy/pass.js";
import { runPass } from "../deploy/pass.js";
import type { Target } from "../deploy/target.js";
import { sourceKey } from "../deploy/target.js";
import { cacheFromDeployed } from "../deploy/fetch.js";
import { HailError, UsageError, asHailError } from "../errors.js";
import { hasErrnoCode } from "../errno.js";
import type { PassRecord } from "../metrics/account.js";
import { accountPass, countersChanged } from "../metrics/account.js";
import type { ProfileMetrics } from "../metrics/exposition.js";
import { readProfileTarget } from "../nix/profile.js";
import type { ProfileFs } from "../nix/profile-fs.js";
import type { MetricsState } from "../state/schema.js";
import { deployedBuildIdAt } from "../state/transitions.js";
import { noteRebootNeed, rebootIfDue } from "../nixos/reboot.js";

/**
 * How the last pass of a target ended, for /healthz and the exit code of a one-shot: what the
 * pass came to, the error that stopped it, or the failed end of an interrupted deployment.
 */
export type PassReport = PassOutcome | { kind: "error"; error: HailError } | { kind: "converge-failed" };

/**
 * One target's passes with their bookkeeping: metrics accounted and persisted, the last
 * result kept for /healthz. A pass never throws: the daemon loop must not die.
 */
export class TargetAgent {
  readonly session: TargetSession = { cache: null };
  last: PassReport | null = null;
  private metrics: MetricsState | null = null;
  private deployedBuildId: number | null = null;
  private rebootPending: boolean | undefined = undefined;

  constructor(
    readonly deps: PassDeps,
    readonly target: Target,
    readonly opts: PassOptions,
    private readonly context: { profilesDir: string; managedBy: string | null; newRound: () => void },
  ) {}

  get profilesDir(): string {
    return this.context.profilesDir;
  }

  /** Forgets the answers shared with other targets in the last poll round. */
  newRound(): void {
    this.context.newRound();
  }

  /** The error of the last pass, for /healthz. */
  lastError(): { kind: string; message: string } | null {
    const last = this.last;
    if (last?.kind === "error" || last?.kind === "failed") return { kind: last.error.kind, message: last.error.message };
    if (last?.kind === "converge-failed") return { kind: "activation", message: "finishing an interrupted deployment failed" };
    return null;
  }

  /** Finishes what a crashed run left half done; the daemon also re-activates (SPEC §2.6). */
  async start(mode: "daemon" | "oneshot"): Promise<void> {
    await settleOrphanedActivation(this.deps, this.opts.activateTimeoutMs);
    const converged = await convergeInterrupted(this.deps, this.target, this.opts);
    if (converged.kind === "completed") await this.account({ kind: "deployed" });
    if (converged.kind === "completed") await this.noteRebootNeed();
    if (converged.kind === "failed") {
      await this.account({ kind: "failed", errorKind: "activation", rolledBack: this.opts.rollback });
      this.last = { kind: "converge-failed" };
    }
    // A NixOS system was activated by its own boot: switching it again at every start of hail
    // would undo a `boot`-only deployment that waits for its reboot.
    if (mode === "daemon" && converged.kind === "nothing-to-do" && !this.target.nixos) {
      const current = await readProfileTarget(this.target.profile.path, this.deps.storeDir, this.deps.fs);
      if (current !== null) await activateCurrent(this.deps, this.target, current, this.opts.activateTimeoutMs);
    }
  }

  /** A finished interrupted deployment of a new kernel waits for its reboot like any other. */
  private async noteRebootNeed(): Promise<void> {
    const current = this.target.nixos ? await readProfileTarget(this.target.profile.path, this.deps.storeDir, this.deps.fs) : null;
    if (current !== null) await noteRebootNeed(this.deps, this.target, current);
  }

  async pass(): Promise<PassReport> {
    let report: PassReport;
    try {
      report = await runPass(this.deps, this.target, this.session, this.opts);
    } catch (caught) {
      const err = asHailError(caught);
      this.deps.log.error(err.message, { errorKind: err.kind });
      report = { kind: "error", error: err };
    }
    this.last = report;
    // also while Hydra is away: a pending reboot only waits for the window
    await rebootIfDue(this.deps, this.target).catch((err: unknown) => {
      this.deps.log.error(`cannot check for a pending reboot: ${err instanceof Error ? err.message : String(err)}`);
    });
    // An unchanged pass has just read the profile link: no need to read it again.
    await this.account(toRecord(report), report.kind === "unchanged" ? report.currentPath : undefined);
    return report;
  }

  /**
   * True while the last pass did not fail (GET /healthz). Skipping a known-bad build counts as
   * failing, as it does for a one-shot's exit code: the newest build is still not deployed.
   */
  get healthy(): boolean {
    const last = this.last;
    if (last === null) return true;
    if (last.kind === "error" || last.kind === "converge-failed" || last.kind === "failed") return false;
    return !(last.kind === "unchanged" && last.decision.kind === "skip" && last.decision.cause === "failed-before");
  }

  metricsSnapshot(): ProfileMetrics | null {
    if (this.metrics === null) return null;
    const snapshot = { profile: this.target.profile.name, metrics: this.metrics, deployedBuildId: this.deployedBuildId };
    return this.rebootPending === undefined ? snapshot : { ...snapshot, rebootPending: this.rebootPending };
  }

  /**
   * Reads the state once at start: metrics counters continue across restarts and one-shots,
   * and what hail last deployed seeds the resolution cache.
   */
  async load(): Promise<void> {
    await refuseNonLinkProfile(this.deps.fs, this.target.profile.path);
    let state = await this.deps.store.read();
    const managedBy = this.context.managedBy;
    if (managedBy !== null && (state.managedBy !== managedBy || state.retiredAt !== null)) {
      state = await this.deps.store.update((s) => ({ ...s, managedBy, retiredAt: null }));
    }
    this.metrics = state.metrics;
    if (state.lastDeployed) this.session.cache = cacheFromDeployed(state.lastDeployed, this.target.source, sourceKey(this.target));
    await this.refreshDeployedBuild();
  }

  private async account(record: PassRecord, current?: string | null): Promise<void> {
    const at = this.deps.now().toISOString();
    const before = this.metrics ?? (await this.deps.store.read()).metrics;
    const after = accountPass(before, record, at);
    // the build id first: a scrape must never see the new counters with the old build id
    await this.refreshDeployedBuild(current);
    this.metrics = after;
    // Timestamps alone are not worth a disk write on every idle poll; counters are.
    if (countersChanged(before, after)) {
      await this.deps.store.update((s) => ({ ...s, metrics: after })).catch((err: unknown) => {
        this.deps.log.error(`cannot save metrics to the state file: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
  }

  private async refreshDeployedBuild(known?: string | null): Promise<void> {
    try {
      const [state, current] = await Promise.all([
        this.deps.store.read(),
        known === undefined ? readProfileTarget(this.target.profile.path, this.deps.storeDir, this.deps.fs) : known,
      ]);
      this.deployedBuildId = deployedBuildIdAt(state, current);
      if (this.target.nixos?.rebootWindow) this.rebootPending = state.rebootPending !== null;
    } catch {
      this.deployedBuildId = null;
    }
  }
}

/** A profile is a symlink (or nothing yet); a directory or file there is a configuration mistake. */
async function refuseNonLinkProfile(fs: ProfileFs, path: string): Promise<void> {
  try {
    const info = await fs.lstat(path);
    if (info.isSymbolicLink()) return;
    const what = info.isDirectory() ? "a directory" : "a regular file";
    throw new UsageError(`--profile ${path} is ${what}, not a profile link: give the path of a Nix profile (a symlink nix-env manages), or move it away`);
  } catch (err) {
    if (!hasErrnoCode(err, "ENOENT")) throw err;
  }
}

function toRecord(report: PassReport): PassRecord {
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
      return { kind: "unchanged", upToDate: report.currentPath === report.resolution.storePath && report.decision.kind !== "skip" };
  }
}
