// cli: `hail plan --format markdown`: the plan as a table for a pull request or a chat.
import { formatSize } from "../size.js";
import type { PlanReport, PlanResult } from "./plan-report.js";

/**
 * `hail plan --format markdown`: one table row per target, for a CI job summary
 * (`>> "$GITHUB_STEP_SUMMARY"`). The action cell is the action as `--json` names it, with its
 * reason, so a new action needs nothing here; the count line tallies whatever actions occur.
 */
export function renderPlanMarkdown(results: readonly PlanResult[]): string {
  const rows = results.map((r) => (r.kind === "report" ? reportRow(r.report) : [r.profile, "", "", `**error** (exit ${r.error.exitCode}): ${r.error.message}`, ""]));
  const lines = [
    `### hail plan: ${tally(results)}`,
    "",
    "| target | current | offered | action | download |",
    "|---|---|---|---|---|",
    ...rows.map((cells) => `| ${cells.map(cell).join(" | ")} |`),
  ];
  return `${lines.join("\n")}\n`;
}

function reportRow(report: PlanReport): string[] {
  const offered = `${code(storeName(report.storePath))} (build ${report.buildId}${report.gateBuildId === null ? "" : `, gate ${report.gateBuildId}`})`;
  const action = report.reason ? `**${report.action}**: ${report.reason}` : `**${report.action}**`;
  return [report.profile.name, report.currentPath === null ? "(none)" : code(storeName(report.currentPath)), offered, action, download(report)];
}

function download(report: PlanReport): string {
  const sizes = report.changes?.sizes;
  if (sizes === undefined) return "";
  if (!sizes.known) return "unknown";
  return `${formatSize(sizes.downloadSize)} (${sizes.missingPaths} of ${sizes.paths} paths)`;
}

/** "2 deploy, 1 none, 1 error": how many targets came to each action, in order of first appearance. */
function tally(results: readonly PlanResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) {
    const key = r.kind === "report" ? r.report.action : "error";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([action, n]) => `${n} ${action}`).join(", ") || "no targets";
}

/** `/nix/store/HASH-name` as `HASH8…-name`: short enough for a table, still telling builds apart. */
function storeName(storePath: string): string {
  const base = storePath.slice(storePath.lastIndexOf("/") + 1);
  const dash = base.indexOf("-");
  return dash === 32 ? `${base.slice(0, 8)}…${base.slice(dash)}` : base;
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

/** A table cell: pipes escaped, line breaks folded. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}
