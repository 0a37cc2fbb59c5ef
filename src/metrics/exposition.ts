// metrics: The Prometheus exposition: every metric of every target, rendered as text.
import { BUILD_INFO } from "../build-info.js";
import type { ReleaseRejectionKind } from "../errors.js";
import type { MetricsState, State } from "../state/schema.js";

/**
 * Prometheus text exposition of the series in docs/observability.md, "Metrics", for the node_exporter textfile
 * collector and the /metrics endpoint. Fixed series rendered by a pure function: simpler to
 * test and cheaper to load than a client library's global registry.
 */
export interface ProfileMetrics {
  /** the profile as the operator named it */
  profile: string;
  metrics: MetricsState;
  /** Hydra build id of what the profile holds, when hail knows it */
  deployedBuildId: number | null;
  /** --nixos only: a reboot into the deployed system waits (for the window, or for the operator) */
  rebootPending?: boolean;
  /** why, while it waits: the state file's reasons ("kernel", …, "switch-inhibitors") */
  rebootReasons?: readonly string[];
  /** --release-manifest targets only: the release last verified (null before the first) */
  release?: State["release"];
}

/** The reasons hail_reboot_pending_reason always reports (0 or 1), so that a query never finds a series missing. */
export const REBOOT_REASONS = ["kernel", "initrd", "kernel-modules", "switch-inhibitors"] as const;

/**
 * The kinds of hail_errors_total. `environment` (exit 73/74: a read-only or full disk, a
 * permission hail lacks) is hail's addition to the contract's list, so an operator sees a
 * full disk in the metrics too; `locked` is not an error of the profile and is left out.
 */
export const ERROR_KINDS = ["usage", "invalid_response", "unavailable", "not_ready", "nix", "activation", "environment", "internal"] as const;

/** Why signed releases were refused: counted for the targets with --release-manifest only. */
export const RELEASE_ERROR_KINDS = [
  "signature-missing",
  "signature-invalid",
  "signer-unknown",
  "namespace-wrong",
  "manifest-invalid",
  "manifest-expired",
  "job-mismatch",
  "hydra-disagrees",
  "replay",
] as const satisfies readonly ReleaseRejectionKind[];
// every kind listed: a new one that is not fails to typecheck here
const _allReleaseKinds: Exclude<ReleaseRejectionKind, (typeof RELEASE_ERROR_KINDS)[number]> extends never ? true : never = true;

interface Family {
  name: string;
  type: "gauge" | "counter";
  help: string;
  /** left out altogether (HELP and TYPE too) while no profile has a sample of it */
  optional?: boolean;
  samples: (p: ProfileMetrics) => [labels: Record<string, string>, value: number][];
}

const FAMILIES: Family[] = [
  {
    // Which hail (and Node.js) wrote the profile's series: `count by (version) (hail_build_info)`
    // shows how far an upgrade has gone across a fleet. The commit is "" outside git.
    name: "hail_build_info",
    type: "gauge",
    help: "always 1; labels: the hail version, its commit and the Node.js running it",
    samples: () => [[{ version: BUILD_INFO.version, commit: BUILD_INFO.commit ?? "", nodejs: BUILD_INFO.nodejs }, 1]],
  },
  {
    name: "hail_up_to_date",
    type: "gauge",
    help: "1 when the profile is at the newest deployable build",
    samples: (p) => [[{}, p.metrics.upToDate ? 1 : 0]],
  },
  {
    name: "hail_deployed_build_id",
    type: "gauge",
    help: "Hydra build id of what is deployed (NaN when unknown, e.g. changed outside hail)",
    samples: (p) => [[{}, p.deployedBuildId ?? Number.NaN]],
  },
  {
    name: "hail_last_check_timestamp_seconds",
    type: "gauge",
    help: "end of the last pass, whatever its result (0: never)",
    samples: (p) => [[{}, seconds(p.metrics.lastCheckAt)]],
  },
  {
    name: "hail_last_success_timestamp_seconds",
    type: "gauge",
    help: "end of the last pass that left the profile current (0: never)",
    samples: (p) => [[{}, seconds(p.metrics.lastSuccessAt)]],
  },
  {
    name: "hail_deployments_total",
    type: "counter",
    help: "deployment attempts by result",
    samples: (p) => [
      [{ result: "success" }, p.metrics.deployments.success],
      [{ result: "failed" }, p.metrics.deployments.failed],
    ],
  },
  {
    name: "hail_rollbacks_total",
    type: "counter",
    help: "rollbacks performed",
    samples: (p) => [[{}, p.metrics.rollbacks]],
  },
  {
    name: "hail_hook_failures_total",
    type: "counter",
    help: "--on-success/--on-failure hooks that failed or timed out (they never change a deployment's result)",
    samples: (p) => [[{}, p.metrics.hookFailures]],
  },
  {
    name: "hail_known_bad_skips_total",
    type: "counter",
    help: "passes that skipped the newest build because it failed to deploy here before (known-bad), keeping what is deployed",
    samples: (p) => [[{}, p.metrics.knownBadSkips]],
  },
  {
    name: "hail_errors_total",
    type: "counter",
    help: "errors by kind",
    samples: (p) => [...ERROR_KINDS, ...(p.release === undefined ? [] : RELEASE_ERROR_KINDS)].map((kind) => [{ kind }, p.metrics.errors[kind] ?? 0]),
  },
  {
    name: "hail_reboot_pending",
    type: "gauge",
    optional: true,
    help: "1 while a reboot into the deployed NixOS system waits: for --reboot-window, or, without one, for the operator (only --nixos targets)",
    samples: (p) => (p.rebootPending === undefined ? [] : [[{}, p.rebootPending ? 1 : 0]]),
  },
  {
    name: "hail_reboot_pending_reason",
    type: "gauge",
    optional: true,
    help: "1 for each reason a pending reboot waits for: a changed kernel, initrd or kernel-modules, or switch inhibitors that differ from the booted system's (only --nixos targets)",
    samples: (p) => (p.rebootPending === undefined ? [] : REBOOT_REASONS.map((reason) => [{ reason }, p.rebootPending && p.rebootReasons?.includes(reason) ? 1 : 0])),
  },
  {
    name: "hail_release_signed_build",
    type: "gauge",
    help: "--release-manifest: the gate build the last verified release signs; labels: who signed it (principal, key fingerprint)",
    optional: true,
    samples: (p) => (p.release ? [[{ principal: p.release.principal, fingerprint: p.release.fingerprint }, p.release.build]] : []),
  },
  {
    name: "hail_release_expiry_timestamp_seconds",
    type: "gauge",
    help: "--release-manifest: when the last verified release expires (no sample for a release without expiry)",
    optional: true,
    samples: (p) => (p.release?.expires ? [[{}, seconds(p.release.expires)]] : []),
  },
  {
    name: "hail_release_waiting_since_timestamp_seconds",
    type: "gauge",
    help: "--release-manifest: since when a newer gate build than the signed one waits for a signature (0: not waiting)",
    optional: true,
    samples: (p) => (p.release === undefined ? [] : [[{}, seconds(p.release?.waiting?.since ?? null)]]),
  },
];

/**
 * Counters of the daemon process as a whole. Every series carries `profile`, so each profile
 * shows the same count: a poll request is for every target of the process.
 */
export interface DaemonMetrics {
  /** POST /poll and SIGUSR1 requests refused by --poll-min-interval */
  pollRequestsRejected: number;
}

/** A target removed from the config file that hail stopped managing (agent/retire.ts). */
export interface RetiredTarget {
  /** the profile as the operator named it: the `profile` label its series had */
  profile: string;
  retiredAt: string;
}

/**
 * `retired`: the targets removed on purpose lately. Their series are gone; this one says that
 * it was on purpose, so that HailMetricsGone (nix/prometheus/hail.rules.yml) stays silent.
 */
export function renderMetrics(profiles: readonly ProfileMetrics[], daemon?: DaemonMetrics, retired: readonly RetiredTarget[] = []): string {
  const lines: string[] = [];
  for (const family of FAMILIES) {
    if (family.optional === true && profiles.every((p) => family.samples(p).length === 0)) continue;
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const p of profiles) {
      for (const [labels, value] of family.samples(p)) {
        lines.push(`${family.name}{${renderLabels({ profile: p.profile, ...labels })}} ${renderValue(value)}`);
      }
    }
  }
  if (daemon !== undefined) {
    lines.push(
      "# HELP hail_poll_requests_rejected_total POST /poll and SIGUSR1 requests refused because --poll-min-interval had not passed (per process)",
      "# TYPE hail_poll_requests_rejected_total counter",
      ...profiles.map((p) => `hail_poll_requests_rejected_total{${renderLabels({ profile: p.profile })}} ${daemon.pollRequestsRejected}`),
    );
  }
  if (retired.length > 0) {
    lines.push(
      "# HELP hail_target_retired_timestamp_seconds when hail stopped managing a target removed from its config file (shown for a week after)",
      "# TYPE hail_target_retired_timestamp_seconds gauge",
      ...retired.map((r) => `hail_target_retired_timestamp_seconds{${renderLabels({ profile: r.profile })}} ${seconds(r.retiredAt)}`),
    );
  }
  return `${lines.join("\n")}\n`;
}

function renderLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`)
    .join(",");
}

function renderValue(value: number): string {
  return Number.isNaN(value) ? "NaN" : String(value);
}

function seconds(iso: string | null): number {
  return iso === null ? 0 : Date.parse(iso) / 1000;
}
