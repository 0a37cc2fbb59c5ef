// The quoting round trip of the services e2e test (issue 28 point 1, SERVICES.md section 7): a
// service whose arguments and environment values hold what systemd's unit file syntax treats
// specially (spaces, `%` specifiers, quotes, `$` variables, backslashes, a lone `;`, an empty
// word) writes the argv and environment it really got to a JSON file, to compare with what the
// profile's spec gave.

export const QUOTING_ARGS = [
  "two words",
  "  padded  ",
  "100%",
  "%n %i %%",
  '"double"',
  "'single'",
  "it's",
  "$HOME",
  "${HOME}",
  "$$",
  "back\\slash",
  "trailing\\",
  '\\"',
  ";",
  "",
  "é ü 🚀",
];

export const QUOTING_ENV: Record<string, string> = {
  Q_SPACES: "a b  c",
  Q_PERCENT: "100% %n %%",
  Q_DOLLAR: "$HOME ${HOME} $$",
  Q_QUOTES: "\"double\" 'single'",
  Q_BACKSLASH: "back\\slash\\n\\",
  Q_EQUALS: "a=b=c",
  Q_EMPTY: "",
};

export interface QuotingReport {
  argv: string[];
  env: Record<string, string>;
}

// One line of Python (no newline to quote): the report is written whole (rename), then the
// process stays up as a long-running service does.
const REPORTER = [
  "import json, os, sys, time",
  "d = {'argv': sys.argv[2:], 'env': {k: v for k, v in os.environ.items() if k.startswith('Q_')}}",
  "f = open(sys.argv[1] + '.tmp', 'w')",
  "json.dump(d, f)",
  "f.close()",
  "os.rename(sys.argv[1] + '.tmp', sys.argv[1])",
  "time.sleep(1e9)",
].join("; ");

/** The service (for service-profile.nix's spec) that writes its QuotingReport to `reportFile`. */
export function quotingService(reportFile: string): Record<string, unknown> {
  return {
    description: "quoting round trip: 100% \"quoted\" $HOME \\ back",
    exec: ["/usr/bin/python3", "-c", REPORTER, reportFile, ...QUOTING_ARGS],
    environment: QUOTING_ENV,
  };
}
