// cli: The examples `--help` shows under each command.
import type { CommandName } from "./option-table.js";

/**
 * Examples, said once for each command's --help, hail(1) and docs/reference/cli.md. They use
 * the docs' gate (README.md, "docs convention"), and each line fits an 80-column terminal
 * where --help indents it.
 */
export interface Example {
  /** what it does, as a sentence ending with a colon */
  readonly what: string;
  /** the command lines; a long one is continued with ` \` */
  readonly lines: readonly string[];
  /** whose --help shows it (none: only the man page and the reference) */
  readonly in: CommandName | null;
}

export const EXAMPLE_GATE = "https://hydra.example.org/job/myproject/main/release_gate";
const TARGET = [`  --gate-job ${EXAMPLE_GATE} \\`, "  --constituent myapp --profile myapp"];

export const EXAMPLES: readonly Example[] = [
  { what: "One pass from a timer or a script (exit codes below):", lines: ["hail run --oneshot \\", ...TARGET], in: "run" },
  { what: "A daemon that polls every 5 minutes and serves its metrics on 127.0.0.1:9111:", lines: ["hail run --metrics-listen 9111 \\", ...TARGET], in: "run" },
  { what: "Every target of a config file, one pass:", lines: ["hail run --config /etc/hail/config.json --oneshot"], in: "run" },
  { what: "What would be deployed, in CI (exit 2 when a deployment is pending):", lines: ["hail plan --detailed-exitcode \\", ...TARGET], in: "plan" },
  { what: "The same as a Markdown table, for a CI job summary:", lines: ["hail plan --format markdown \\", ...TARGET], in: "plan" },
  { what: "What is deployed, from which build, and the last error:", lines: ["hail status myapp"], in: "status" },
  { what: "Pause deployments of a profile for two hours:", lines: ["hail hold myapp --reason 'database migration' --until 2h"], in: "hold" },
  { what: "Resume deployments of a profile, and try its known-bad builds again:", lines: ["hail release myapp --clear-failed"], in: "release" },
  {
    what: "Sign the gate's latest-finished build as a release that expires in 30 days:",
    lines: ["hail sign --key ~/.ssh/hail-release --output myapp.json --expires 30d \\", `  --gate-job ${EXAMPLE_GATE}`],
    in: "sign",
  },
  { what: "Complete hail's commands and options in this bash session:", lines: ["source <(hail completion bash)"], in: null },
];

/** The examples a command's --help ends with. */
export function examplesOf(command: CommandName): Example[] {
  return EXAMPLES.filter((e) => e.in === command);
}
