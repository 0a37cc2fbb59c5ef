// cli: The plan report's types: what `hail plan` found for each target.
import type { Decision } from "../resolve/decide.js";
import type { Target } from "../resolve/target.js";
import type { HailError } from "../errors.js";
import type { ReleaseView } from "../release/confirm.js";
import type { ChangePreview } from "./plan-changes.js";

// What `hail plan` found for each target: built by plan.ts, rendered by plan.ts (text, JSON)
// and plan-markdown.ts, which therefore both depend on this file and not on each other.

/** The action as `plan` prints it: "none" where a pass decides the profile is up to date. */
export type PlanAction = Exclude<Decision["kind"], "up-to-date"> | "none";

export interface PlanReport {
  target: { source: string; kind: Target["source"]["kind"]; url: string; constituent: string | null; output: string };
  profile: { name: string; path: string };
  /** what the output is and how it is activated: bin/activate, a NixOS system, a Home Manager generation */
  mode: "app" | "nixos" | "home-manager";
  gateBuildId: number | null;
  buildId: number;
  job: string;
  evals: number[];
  storePath: string;
  currentPath: string | null;
  action: PlanAction;
  reason: string | null;
  /** staged rollout: when this host's turn comes */
  notBefore: string | null;
  commands: string[];
  /** for a pending deployment: download and closure sizes, and the closure diff */
  changes: ChangePreview | null;
  /** --release-manifest: the signed release that picked the build; null without one */
  release: ReleaseView | null;
  /** --nixos, for a pending deployment: whether a reboot would be needed */
  reboot?: string;
  /** --nixos: why a reboot would be needed ("kernel", "initrd", "kernel-modules", "switch-inhibitors") */
  rebootReasons?: string[];
}

/** One target of a plan run: its report, or the error that stopped its resolution. */
export type PlanResult = { kind: "report"; report: PlanReport } | { kind: "error"; profile: string; error: HailError };
