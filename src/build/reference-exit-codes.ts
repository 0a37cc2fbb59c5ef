// build: Generates docs/reference/exit-codes.md from the EXIT table and its words.
import { EXIT_NAMES, EXIT_WORDS, urgencyOrder } from "../cli/help-exit-codes.js";
import { EXIT } from "../errors.js";
import { GENERATED, page, table } from "./markdown.js";

/**
 * docs/reference/exit-codes.md: every code of EXIT (src/errors.ts) with the words --help and
 * hail(1) use, and the order `--config` picks one code for all targets in.
 */
export function exitCodesReference(): string {
  return page([
    GENERATED,
    "# Exit codes",
    "For `--oneshot`, `plan`, `status`, `hold` and `release`; `hail run --help` and `man hail` list the same codes. " +
      "Each failure also ends with one `hail: <what failed>: <why> (<hint>)` line on stderr: [error-messages.md](error-messages.md). " +
      "What each message means and what to do, step by step: [troubleshooting](../troubleshooting.md). " +
      "The rest of the reference: [../reference.md](../reference.md).",
    table(
      ["code", "meaning", "what to do"],
      EXIT_NAMES.map((name) => [String(EXIT[name]), EXIT_WORDS[name].meaning, EXIT_WORDS[name].todo]),
    ),
    "## More about some codes",
    MORE,
    "## Many targets, one code",
    `With \`--config\`, one exit code stands for all targets: the most urgent one wins, in the order ${urgencyOrder().join(", ")}.`,
    "## The daemon",
    DAEMON,
  ]);
}

const MORE = `- 0 also covers a profile changed by hand, which hail leaves alone (see [Safety](../safety.md#safety)),
  and a Hydra that offers an older build than the one deployed: hail
  [never goes backwards](../how-it-works.md#how-hail-reads-hydra) unless \`--allow-downgrade\`.
- 64 also covers a \`--profile\` that is a directory or a regular file rather than a profile link,
  an empty \`--state-dir\` or \`--profiles-dir\`, a \`--config\`, \`--netrc-file\` or
  \`--hydra-password-file\` that another user owns or can write, that is not a regular file or is
  too large, and a \`--metrics-listen\` address that is in use or does not resolve.
- 73: what hail trusts, and why, is in [security](../security.md).
- 73, 74 and 70 close a running attempt in the state file with the error (no failure mark), so
  the next run does not report an interrupted deployment.
- \`status --json\` prints \`{"error": {"kind", "message", "exitCode"}}\` on stdout when it fails.`;

const DAEMON = `The daemon exits 0 on SIGTERM/SIGINT, 64 for a configuration error at start (including a
damaged state file) and 75 when another hail holds the profile's lock; it never exits for the
65/69/75 conditions of a pass. With a config file, a target whose lock is held or whose state
file is damaged is left out (logged, and its code counts in a one-shot's exit code) and the
other targets run; hail exits at start only when no target can start.`;
