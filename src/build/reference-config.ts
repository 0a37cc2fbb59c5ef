// build: Generates docs/reference/config.md: the config file's keys, from the option table.
import type { FileKey, FileValue, OptionName, OptionRow } from "../cli/option-table.js";
import { OPTIONS, flagOf } from "../cli/option-table.js";
import { GENERATED, code, page, table } from "./markdown.js";

/**
 * docs/reference/config.md: every key of `hail --config FILE`, where it may stand, what its
 * value is, and the flag it mirrors; around it, how the file is read.
 */
export function configReference(): string {
  const keys = fileKeys();
  const perTarget = keys.filter((k) => k.where !== "global").map((k) => code(k.key));
  return page([
    GENERATED,
    "# Config file",
    "`hail --config /etc/hail/config.json` serves many targets in one process; `plan --config` and `status --config` work on the same file. " +
      "Every option on the command line: [cli.md](cli.md); the rest of the reference: [../reference.md](../reference.md).",
    `\`\`\`json\n${EXAMPLE}\n\`\`\``,
    "## Keys",
    "Keys are the long flags in camelCase. An unknown key is an error (exit 64) naming the file and the field path, so a typo is never silently ignored. " +
      "Every target needs `profile`; the top level needs `targets`, a list of at least one target.",
    table(
      ["key", "where", "value", "flag"],
      keys.map((k) => [code(k.key), WHERE[k.where], valueText(k.value), code(k.flag)]),
    ),
    `Per-target keys: ${perTarget.join(", ")}.`,
    "## How the file is read",
    READING,
  ]);
}

interface KeyRow {
  key: string;
  where: FileKey["where"];
  value: FileValue;
  flag: string;
}

function fileKeys(): KeyRow[] {
  return (Object.keys(OPTIONS) as OptionName[]).flatMap((name) => {
    const { file }: OptionRow = OPTIONS[name];
    return file === undefined ? [] : [{ key: file.key ?? name, where: file.where, value: file.value, flag: flagOf(name) }];
  });
}

const WHERE: Record<FileKey["where"], string> = {
  global: "top level only",
  both: "top level or per target",
  target: "per target only",
};

function valueText(value: FileValue): string {
  if (typeof value !== "string") return `one of ${value.map((v) => code(JSON.stringify(v))).join(", ")}`;
  const text: Record<typeof value, string> = {
    string: "a string",
    "non-empty": "a non-empty string",
    boolean: "`true` or `false`",
    duration: 'a duration: a string (`"5m"`, `"1h30m"`) or a bare number, read as on the command line',
    size: 'a size: a string (`"500MiB"`, `"2G"`) or a number of bytes',
    "positive-integer": "a whole number of at least 1",
  };
  return text[value];
}

const EXAMPLE = `{
  "stateDir": "/var/lib/hail",
  "pollPeriod": "2m",
  "metricsFile": "/var/lib/node_exporter/textfile/hail.prom",
  "rolloutWindow": "30m",
  "targets": [
    { "profile": "myapp",  "gateJob": "https://hydra.example.org/job/myproject/main/release_gate", "constituent": "myapp" },
    { "profile": "worker", "gateJob": "https://hydra.example.org/job/myproject/main/release_gate", "constituent": "worker",
      "healthCheck": "/usr/local/bin/check-worker", "keepGenerations": 5 },
    { "profile": "legacy", "jobUri": "https://hydra.example.org/job/legacy/main/app", "noRollback": true }
  ]
}`;

const READING = `- Layering, weakest first: built-in defaults, the file's top-level options, the target's own,
  then flags on the command line next to \`--config\` (handy for \`--oneshot\` or \`--log-level
  debug\`). Target flags (\`--gate-job\`, \`--profile\`, …) next to \`--config\` are refused.
- One process serves every target. Targets on the same Hydra share a client, and within a poll
  every answer is fetched once: targets behind the same gate cost one request per idle poll.
  Each target has its own lock, state file and \`profile\` metrics label, and a failure in one
  never stops the others.
- **Removing a target.** When a target disappears from the config file, the next start of hail
  with that file runs the profile's \`bin/deactivate\` (when it has one; same environment as an
  activation), marks the state file \`retiredAt\`, and stops managing the profile. The profile and
  its generations stay — removing software is the deactivation script's job. Only state files
  marked with the same config file's path are touched, so hails with different config files can
  share a state directory. A failed deactivation is logged and tried again at the next start.
  Config changes take effect at a restart (\`systemctl restart\`).`;
