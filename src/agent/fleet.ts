// agent: Making, locking and starting every target of one hail process, and the fleet's shared
// metrics and health.
import type { HydraApi } from "../resolve/latest.js";
import { liveProcesses } from "../deploy/orphan.js";
import { SharedRound } from "../resolve/shared-hydra.js";
import { storeDirFromEnv } from "../resolve/store-path.js";
import type { HailError } from "../errors.js";
import { EXIT, asHailError } from "../errors.js";
import type { Log } from "../log.js";
import type { DaemonMetrics } from "../metrics/exposition.js";
import { renderMetrics } from "../metrics/exposition.js";
import { nodeProfileFs } from "../profile/fs.js";
import { createProcessRunner } from "../nix/runner.js";
import { lockProfile, stateStoreFor } from "../state/profile-files.js";
import type { AgentConfig } from "./config.js";
import type { Condition } from "./report.js";
import { createHydraClient } from "./hydra-client.js";
import { createReleaseFiles } from "./release-client.js";
import type { HydraClient } from "../hydra/client.js";
import type { FleetRecord } from "./target-agent.js";
import { TargetAgent } from "./target-agent.js";

export type Lock = Awaited<ReturnType<typeof lockProfile>>;

/**
 * Locks and state come before any decision: a locked profile answers 75 even when
 * current, and a damaged state file stops its target (64) before anything runs. With several
 * targets, such a target is left out and the others go on: one failure never stops the rest.
 */
export async function startTargets(
  agents: TargetAgent[],
  global: AgentConfig,
  locks: Lock[],
): Promise<{ ready: TargetAgent[]; codes: number[]; errors: { profile: string; error: HailError }[] }> {
  const ready: TargetAgent[] = [];
  const codes: number[] = [];
  const errors: { profile: string; error: HailError }[] = [];
  for (const agent of agents) {
    let lock: Lock | null = null;
    try {
      lock = await lockProfile(agent.target.profile, global.stateDir, global.oneshot ? "oneshot" : "daemon");
      await agent.load();
      locks.push(lock);
      ready.push(agent);
    } catch (caught) {
      const err = asHailError(caught);
      if (err.exitCode === EXIT.internal) throw caught;
      await lock?.release();
      const leftOut = agents.length > 1 ? "; the other targets go on without it" : "";
      agent.deps.log.error(`${err.message}${leftOut}`, { errorKind: err.kind, hint: err.hint ?? undefined });
      codes.push(err.exitCode);
      errors.push({ profile: agent.target.profile.name, error: err });
    }
  }
  return { ready, codes, errors };
}

/** How long a retired target is shown in the metrics: longer than HailMetricsGone looks back (1 day). */
export const RETIRED_SHOWN_MS = 7 * 24 * 3600_000;

/** One agent per target; targets on the same Hydra share one client and one round of answers. */
export async function createAgents(configs: AgentConfig[], log: Log, configFile: string | null): Promise<TargetAgent[]> {
  const rounds = new Map<string, SharedRound>();
  const fleet: FleetRecord = { retired: [] };
  const runner = createProcessRunner();
  const storeDir = storeDirFromEnv(process.env);
  const agents: TargetAgent[] = [];
  const clients = new Map<string, HydraClient>();
  for (const config of configs) {
    const base = config.target.source.job.baseUrl;
    let round = rounds.get(base);
    let client = clients.get(base);
    if (round === undefined || client === undefined) {
      client = await createHydraClient(config, log);
      round = new SharedRound(client);
      rounds.set(base, round);
      clients.set(base, client);
    }
    const hydra: HydraApi = round;
    const releaseFiles = await createReleaseFiles(config, client, log);
    agents.push(
      new TargetAgent(
        {
          hydra,
          runner,
          fs: nodeProfileFs,
          processes: liveProcesses,
          log: log.child({ profile: config.target.profile.name }),
          store: stateStoreFor(config.target.profile, config.stateDir),
          storeDir,
          now: () => new Date(),
          releaseFiles,
        },
        config.target,
        // an AgentConfig is the pass's options (it extends PassOptions): handed over whole
        config,
        { managedBy: configFile, newRound: () => round.newRound(), fleet },
      ),
    );
  }
  return agents;
}

/** The Prometheus exposition of every target (and the daemon's own series, and the targets retired lately). */
export function fleetMetrics(agents: readonly TargetAgent[], daemonMetrics?: DaemonMetrics, now = Date.now()): string {
  const retired = (agents[0]?.fleet.retired ?? []).filter((r) => now - Date.parse(r.retiredAt) < RETIRED_SHOWN_MS);
  return renderMetrics(
    agents.map((a) => a.metricsSnapshot()).filter((m) => m !== null),
    daemonMetrics,
    retired,
  );
}

/**
 * GET /healthz: each target's condition with its reason, and the fleet's, the worst of them.
 * 200 while no target is failing (a known-bad build skipped is `degraded`: hail works as
 * designed), 503 otherwise. `ok` and `error` are kept for readers of the older body.
 */
export function fleetHealth(agents: readonly TargetAgent[]): { ok: boolean; body: unknown } {
  const conditions = agents.map((a) => ({ agent: a, condition: a.condition() }));
  const profiles = Object.fromEntries(
    conditions.map(({ agent, condition }) => [
      agent.target.profile.name,
      {
        ok: condition.condition !== "failing",
        ...condition,
        reason: condition.condition === "ok" ? null : condition.reason,
        lastCheckAt: agent.metricsSnapshot()?.metrics.lastCheckAt ?? null,
        error: condition.condition === "failing" ? condition.error : null,
      },
    ]),
  );
  const worst = (state: Condition["condition"]) => conditions.some((c) => c.condition.condition === state);
  const status = worst("failing") ? "failing" : worst("degraded") ? "degraded" : "ok";
  return { ok: status !== "failing", body: { status, profiles } };
}
