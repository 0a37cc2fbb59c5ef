/**
 * The hand-written paragraphs of docs/reference/cli.md: what no row of the option table says.
 * The generator (reference-cli.ts) places them around the generated tables.
 */

export const SYNOPSIS = [
  "hail [run|deploy] TARGET --profile P [options]   deploy: poll forever, or once with --oneshot",
  "hail run --config FILE [options]                 every target of a config file, in one process",
  "hail plan TARGET --profile P [--json | --format text|json|markdown] [--detailed-exitcode] [--fetch]",
  "hail plan --config FILE [--json | --format text|json|markdown] [--detailed-exitcode]",
  "hail status PROFILE [--json]   |  hail status --config FILE [PROFILE] [--json]",
  "hail hold PROFILE [--reason TEXT] [--until DURATION|TIME] [--new] [--config FILE]",
  "hail release PROFILE [--clear-failed] [--config FILE]",
  "hail help [COMMAND]",
  "hail completion bash|zsh|fish   print a completion script (see install.md); man hail for the manual",
  "hail --version                  the version and, when built from a git checkout, the commit: 0.2.0 (19efb7b)",
].join("\n");

export const TARGET_TEXT = `TARGET is \`--gate-job URL --constituent NAME\` (an aggregate job; hail follows \`latest-finished\`)
or \`--job-uri URL\` (a plain job; hail follows \`latest\`). A job URL is
\`https://HOST[/PREFIX]/job/PROJECT/JOBSET/JOB\`; everything before \`/job/\` is the Hydra base URL.`;

export const MANAGE_TEXT = `\`status\`, \`hold\` and \`release\` take the profile positionally or as \`--profile\`, with the same
\`--profiles-dir\` and \`--state-dir\` as the daemon (they do not need Hydra and take no lock, so
they work while a daemon runs). A profile with neither a profile link nor hail state (a typo)
is refused (64) with the profiles hail knows there, and nothing is written; \`hold --new\` holds a
profile before its first deployment. With \`--config FILE\`, PROFILE is one of the file's targets
(by name or path), with that target's \`--profiles-dir\` and \`--state-dir\`, and is known even
before its first deployment. A first word that is not a command is an unknown command (64, with a
suggestion); bare \`hail\` prints the usage on stderr (64).`;

export const DURATIONS_TEXT = `Durations, on the command line and in the config file alike, must be longer than zero (except
\`--rollout-window\`, where \`0\` turns it off) and at most 7 days (\`--poll-period\`,
\`--poll-min-interval\`, \`--timeout\`, \`--activate-timeout\`) or 365 days (\`--rollout-window\`,
\`hold --until\`): anything else is a usage error (64) that names the limit, never a timer that
silently overflows.`;

export const COMMAND_STRINGS_TEXT = `Commands given as strings (\`--health-check\`, \`--on-success\`, \`--on-failure\`,
\`--reboot-command\`) are split into words with shell-like quoting (\`'a b'\`, \`"a b"\`) and run
**without a shell**: \`$VAR\` stays literal, and pipes, redirections, globs, \`;\`, \`&&\` and line
breaks are refused at start (exit 64) — wrap them in a script.`;

export const ADDING_AN_OPTION = `Every option is declared once, as a row of \`OPTIONS\` in \`src/cli/option-table.ts\`; commander's
flags, each command's \`--help\` (grouped), the options' TypeScript types, the config file's keys,
hail(1) and the pages of docs/reference/ come from that row.

1. Add the row: \`flag\` (commander's spelling, \`--name <value>\` or a bare switch), \`help\`,
   \`group\` (the heading it is listed under: one of \`GROUPS\`), \`default\` if it has one, \`file\`
   if the config file takes it (\`where\`: \`target\`, \`both\` or \`global\`, and its value type),
   and \`parse\` if its text becomes a value on its own (a duration, a size, a command line).
2. List its name under each command that takes it in \`COMMAND_OPTIONS\` (same file); within its
   group, \`--help\` keeps that order.
3. Read it where it takes effect: for \`run\` and \`plan\`, in \`toAgentConfig\`
   (\`src/cli/options.ts\`) with \`parsedOption(raw, "name")\` or \`raw.name\`, into one field:
   on \`DeployOptions\` or \`PassOptions\` when one deployment pass reads it (the agent hands
   the whole config to every pass, so it arrives with nothing else to change), on \`AgentConfig\`
   (\`src/agent/config.ts\`) otherwise; then name that field for the option in
   \`src/cli/option-fields.ts\` (the typecheck fails until every option fills a field and every
   field is filled). For \`status\`, \`hold\` and \`release\`, read it from the \`opts\` their
   handler gets (\`src/cli/manage.ts\`).
4. If the reference should say more than the help line (a limit, what is refused, a link), add
   it to \`src/build/option-docs.ts\`. Run \`npm run docs:generate\` and commit the pages it
   rewrites; \`test/docs/reference-generated.test.ts\` fails while they are stale.
5. If the NixOS module should offer it, add it to \`nix/module.nix\` (or leave it to
   \`extraArgs\`); \`test/packaging/nix-files.test.ts\` checks that every flag the module renders
   is one hail knows.`;
