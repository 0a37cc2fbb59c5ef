import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClosureChange } from "../../src/nix/closure-diff.js";
import { diffClosuresCommand, parseDiffClosures } from "../../src/nix/closure-diff.js";

const OLD = "/nix/store/0yzzvrc6iicc2myi0j6v81mfqh8l226r-myapp-1";
const NEW = "/nix/store/fzjyrn6d59z24spgsr4q0g6arx6a7hcz-myapp-2";

// Nix's colours for the size delta (src/nix/diff-closures.cc): red for growth, green for shrinking.
const RED = "\u001b[31;1m";
const GREEN = "\u001b[32;1m";
const NORMAL = "\u001b[0m";

describe("diffClosuresCommand", () => {
  it("runs `nix store diff-closures OLD NEW` with the nix-command feature enabled", () => {
    assert.deepEqual(diffClosuresCommand(OLD, NEW), {
      file: "nix",
      args: ["--extra-experimental-features", "nix-command", "store", "diff-closures", OLD, NEW],
    });
  });
});

describe("parseDiffClosures", () => {
  const cases: Array<[string, string, ClosureChange[]]> = [
    ["a version change without size change (what the lab's apps give)", "myapp: 1 → 2", [{ name: "myapp", change: "1 → 2" }]],
    ["no differences: no output", "", []],
    [
      "a changed package with a coloured size delta",
      `openssl: 1.1.1k → 1.1.1l, ${RED}+12.3 KiB${NORMAL}`,
      [{ name: "openssl", change: "1.1.1k → 1.1.1l, +12.3 KiB" }],
    ],
    [
      "an added package",
      `libfoo: ∅ → 2.0, ${RED}+50.0 KiB${NORMAL}`,
      [{ name: "libfoo", change: "∅ → 2.0, +50.0 KiB" }],
    ],
    [
      "a removed package",
      `python3: 3.9.6 → ∅, ${GREEN}-45123.4 KiB${NORMAL}`,
      [{ name: "python3", change: "3.9.6 → ∅, -45123.4 KiB" }],
    ],
    ["a size change only", `glibc: ${RED}+0.5 KiB${NORMAL}`, [{ name: "glibc", change: "+0.5 KiB" }]],
    ["a package without a version (ε)", "etc: ε → ∅", [{ name: "etc", change: "ε → ∅" }]],
    [
      "several versions on one side",
      "python3.9-requests: 2.25.1, 2.26.0 → 2.26.0",
      [{ name: "python3.9-requests", change: "2.25.1, 2.26.0 → 2.26.0" }],
    ],
    [
      "a whole diff, trailing newline, in order",
      [
        `glibc: ${RED}+0.5 KiB${NORMAL}`,
        `libfoo: ∅ → 2.0, ${RED}+50.0 KiB${NORMAL}`,
        "myapp: 1 → 2",
        `python3: 3.9.6 → ∅, ${GREEN}-45123.4 KiB${NORMAL}`,
        "",
      ].join("\n"),
      [
        { name: "glibc", change: "+0.5 KiB" },
        { name: "libfoo", change: "∅ → 2.0, +50.0 KiB" },
        { name: "myapp", change: "1 → 2" },
        { name: "python3", change: "3.9.6 → ∅, -45123.4 KiB" },
      ],
    ],
    ["CRLF line ends", "myapp: 1 → 2\r\nglibc: +0.5 KiB\r\n", [{ name: "myapp", change: "1 → 2" }, { name: "glibc", change: "+0.5 KiB" }]],
    ["a line without a colon is ignored", "myapp: 1 → 2\nsomething else\n", [{ name: "myapp", change: "1 → 2" }]],
    ["a name with nothing after the colon is ignored", "myapp:\n", []],
    // The runner hands over stdout and stderr together; Nix prints warnings on stderr
    // (an unknown setting, an untrusted substituter), and those are not packages.
    [
      "a Nix warning is not a package change",
      "warning: unknown setting 'foo'\nmyapp: 1 → 2",
      [{ name: "myapp", change: "1 → 2" }],
    ],
  ];
  for (const [what, output, expected] of cases) {
    it(what, () => assert.deepEqual(parseDiffClosures(output), expected));
  }

  it("strips every colour code, whatever the parameters", () => {
    const changes = parseDiffClosures(`\u001b[1mzlib\u001b[0m: 1.2.11 → 1.2.12, \u001b[32;1m-0.1 KiB\u001b[0m`);
    assert.deepEqual(changes, [{ name: "zlib", change: "1.2.11 → 1.2.12, -0.1 KiB" }]);
    assert.ok(!JSON.stringify(changes).includes("\\u001b"));
  });
});
