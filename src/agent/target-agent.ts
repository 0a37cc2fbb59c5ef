// agent: TargetAgent, one target's life: start-up convergence, passes, and the metrics kept between
// them.
import { convergeInterrupted, activateCurrent } from "../deploy/converge.js";
import { settleOrphanedActivation } from "../deploy/orphan.js";
import type { PassDeps, PassOptions, TargetSession } from "../deploy/pass.js";
import { runPass } from "../deploy/pass.js";
import type { Target } from "../resolve/target.js";
import { sourceKey } from "../resolve/target.js";
import { cacheFromDeployed } from "../resolve/latest.js";
import { checkProfileDirs } from "../profile/trust.js";
import type { HailError } from "../errors.js";
import { UsageError, asHailError, describeError } from "../errors.js";
import { hasErrnoCode } from "../errno.js";
import type { PassRecord } from "../metrics/account.js";
import { accountPass, countersChanged } from "../metrics/account.js";
import type { ProfileMetrics, RetiredTarget } from "../metrics/exposition.js";
import { readProfileTarget } from "../profile/links.js";
import type { ProfileFs } from "../profile/fs.js";
import type { MetricsState } from "../state/schema.js";
import { deployedBuildIdAt } from "../state/transitions.js";
import { noteRebootNeed, rebootIfDue } from "../nixos/reboot.js";
import type { PassReport } from "./report.js";
import type { Condition } from "./report.js";
import { passCondition, passError, passRecord } from "./report.js";

/** What the targets of one hail process share besides Hydra's answers (createAgents makes it). */
export interface FleetRecord {
  /** the targets removed from the config file lately (agent/retire.ts), for the metrics */
  retired: RetiredTarget[];
}

/**
 * One target's passes with their bookkeeping: metrics accounted and persisted, the last
 * result kept for /healthz. A pass never throws: the daemon loop must not die.
 */
export class TargetAgent {
  readonly session: TargetSession = { cache: null };
  last: PassReport | null = null;
  private metrics: MetricsState | null = null;
  private deployedBuildId: number | null = null;
  private reboot: { rebootPending: boolean; rebootReasons: string[] } | undefined = undefined;
  /** --release-manifest: the release last verified, as the state file keeps it */
  private release: MetricsRelease = undefined;

  constructor(
    readonly deps: PassDeps,
    readonly target: Target,
    readonly opts: PassOptions,
    private readonly context: { managedBy: string | null; newRound: () => void; fleet?: FleetRecord },
  ) {}

  /** What this agent's process shares with its other targets (createAgents gives them one). */
  get fleet(): FleetRecord {
    this.context.fleet ??= { retired: [] };
    return this.context.fleet;
  }

  /** Forgets the answers shared with other targets in the last poll round. */
  newRound(): void {
    this.context.newRound();
  }

  /** The error of the last pass, for /healthz. */
  lastError(): { kind: string; message: string } | null {
    return passError(this.last);
  }

  /** Finishes what a crashed run left half done; the daemon also re-activates (docs/safety.md, "Safety"). */
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
    if (converged.kind === "re-activated") await this.noteRefusal(converged.error);
    if (mode === "daemon" && converged.kind === "nothing-to-do" && !this.target.nixos) {
      const current = await readProfileTarget(this.target.profile.path, this.deps.storeDir, this.deps.fs);
      if (current !== null) await this.noteRefusal(await activateCurrent(this.deps, this.target, current, this.opts.activateTimeoutMs));
    }
  }

  /**
   * A start-up activation hail refused to run (an untrusted profile: profile/trust.ts)
   * counts as `hail_errors_total{kind="environment"}` and fails /healthz until the next pass;
   * one that ran and failed is only logged, as before.
   */
  private async noteRefusal(error: HailError | null): Promise<void> {
    if (error === null || error.kind !== "environment") return;
    this.last = { kind: "error", error };
    await this.account({ kind: "error", errorKind: error.kind });
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
      this.deps.log.error(err.message, { errorKind: err.kind, hint: err.hint ?? undefined });
      report = { kind: "error", error: err };
    }
    this.last = report;
    // also while Hydra is away: a pending reboot only waits for the window
    await rebootIfDue(this.deps, this.target).catch((err: unknown) => {
      this.deps.log.error(`cannot check for a pending reboot: ${describeError(err)}`);
    });
    // An unchanged pass has just read the profile link: no need to read it again.
    await this.account(passRecord(report), report.kind === "unchanged" ? report.currentPath : undefined);
    return report;
  }

  /** What GET /healthz says of this target: ok, degraded (a known-bad build skipped) or failing. */
  condition(): Condition {
    return passCondition(this.last, this.deployedBuildId);
  }

  /** True while the last pass did not fail: ok or degraded (GET /healthz answers 200). */
  get healthy(): boolean {
    return this.condition().condition !== "failing";
  }

  metricsSnapshot(): ProfileMetrics | null {
    if (this.metrics === null) return null;
    const snapshot = { profile: this.target.profile.name, metrics: this.metrics, deployedBuildId: this.deployedBuildId };
    const signed = this.release === undefined ? snapshot : { ...snapshot, release: this.release };
    return this.reboot === undefined ? signed : { ...signed, ...this.reboot };
  }

  /**
   * Reads the state once at start: metrics counters continue across restarts and one-shots,
   * and what hail last deployed seeds the resolution cache.
   */
  async load(): Promise<void> {
    await refuseNonLinkProfile(this.deps.fs, this.target.profile.path);
    // before anything is decided: a profile others could redirect is never deployed nor run (73)
    await checkProfileDirs(this.target.profile.path, this.deps.fs);
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
        this.deps.log.error(`cannot save metrics to the state file: ${describeError(err)}`);
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
      if (this.target.nixos) this.reboot = { rebootPending: state.rebootPending !== null, rebootReasons: state.rebootPending?.changed ?? [] };
      if (this.target.release) this.release = state.release;
    } catch {
      this.deployedBuildId = null;
    }
  }
}

type MetricsRelease = ProfileMetrics["release"];

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
