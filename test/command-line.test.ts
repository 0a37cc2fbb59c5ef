import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { splitCommandLine } from "../src/command-line.js";
import { UsageError } from "../src/errors.js";

describe("splitCommandLine", () => {
  const good: Array<[string, string[]]> = [
    ["curl -fsS http://127.0.0.1:8080/healthz", ["curl", "-fsS", "http://127.0.0.1:8080/healthz"]],
    ["  spaced   out  ", ["spaced", "out"]],
    [`check "two words" 'single quoted'`, ["check", "two words", "single quoted"]],
    [`check it\\'s`, ["check", "it's"]],
    [`check a\\ b`, ["check", "a b"]],
    [`check "say \\"hi\\""`, ["check", 'say "hi"']],
    [`check ""`, ["check", ""]],
    ["echo $HOME", ["echo", "$HOME"]],
    [`echo "$HOME/x"`, ["echo", "$HOME/x"]],
    ["echo '$HOME'", ["echo", "$HOME"]],
    ["echo ~", ["echo", "~"]],
    ["FOO=1 run", ["FOO=1", "run"]],
    [`check '|' '>' '*' '#' ';' '&&'`, ["check", "|", ">", "*", "#", ";", "&&"]],
  ];
  for (const [text, argv] of good) {
    it(`${JSON.stringify(text)} -> ${JSON.stringify(argv)}`, () => assert.deepEqual(splitCommandLine(text, "--health-check"), argv));
  }

  const refused: Array<[string, string]> = [
    ["a | b", '"|"'],
    ["a > out.log", '">"'],
    ["a < in", '"<"'],
    ["a 2>&1", ">&"],
    ["ls *.txt", '"*.txt"'],
    ["ls file?", '"file?"'],
    ["check # a comment", "a comment"],
    ["a && b", '"&&"'],
    ["a || b", '"||"'],
    ["a ; b", '";"'],
    ["a &", '"&"'],
    ["echo $(id)", '"("'],
    ["check-a\ncheck-b", "line break"],
    ["check-a\r\ncheck-b", "line break"],
  ];
  for (const [text, what] of refused) {
    it(`refuses ${JSON.stringify(text)}, naming the flag and ${what}`, () => {
      assert.throws(
        () => splitCommandLine(text, "--on-failure"),
        (err: unknown) =>
          err instanceof UsageError &&
          err.exitCode === 64 &&
          err.message.startsWith("--on-failure:") &&
          err.message.includes(what) &&
          err.message.includes("without"),
      );
    });
  }

  for (const text of ["", "   "]) {
    it(`refuses the empty command ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => splitCommandLine(text, "--health-check"),
        (err: unknown) => err instanceof UsageError && err.message === "--health-check: empty command",
      );
    });
  }
});
