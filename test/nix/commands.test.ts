import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Command } from "../../src/nix/commands.js";
import {
  activateCommand,
  deleteGenerationsCommand,
  realiseCommand,
  renderCommand,
  setProfileCommand,
  switchGenerationCommand,
} from "../../src/nix/commands.js";

const P = "/nix/var/nix/profiles/hail/myapp";
const S = "/nix/store/l9r346p3d25vs4g5v37f3r3f28js97kb-app-1.0";

describe("command builders", () => {
  const cases: Array<[string, Command, Command]> = [
    ["realise", realiseCommand(S), { file: "nix-store", args: ["--realise", S, "--max-jobs", "0"] }],
    ["set profile", setProfileCommand(P, S), { file: "nix-env", args: ["--profile", P, "--set", S] }],
    ["switch generation", switchGenerationCommand(P, 41), { file: "nix-env", args: ["--profile", P, "--switch-generation", "41"] }],
    [
      "delete generations",
      deleteGenerationsCommand(P, [3, 4, 10]),
      { file: "nix-env", args: ["--profile", P, "--delete-generations", "3", "4", "10"] },
    ],
    ["activate", activateCommand(P), { file: `${P}/bin/activate`, args: [] }],
  ];
  for (const [what, actual, expected] of cases) {
    it(`${what} -> ${renderCommand(expected)}`, () => assert.deepEqual(actual, expected));
  }

  it("passes a path with spaces as one argument", () => {
    assert.deepEqual(setProfileCommand("/tmp/my profiles/p", S).args, ["--profile", "/tmp/my profiles/p", "--set", S]);
  });
});

describe("renderCommand", () => {
  const cases: Array<[Command, string]> = [
    [realiseCommand(S), `nix-store --realise ${S} --max-jobs 0`],
    [setProfileCommand(P, S), `nix-env --profile ${P} --set ${S}`],
    [activateCommand(P), `${P}/bin/activate`],
    [{ file: "echo", args: ["a=b", "x,y", "user@host:80", "50%", "+1"] }, "echo a=b x,y user@host:80 50% +1"],
    [{ file: "echo", args: ["two words"] }, "echo 'two words'"],
    [{ file: "/tmp/my dir/bin/activate", args: [] }, "'/tmp/my dir/bin/activate'"],
    [{ file: "echo", args: ["it's"] }, `echo 'it'\\''s'`],
    [{ file: "echo", args: ['say "hi"'] }, `echo 'say "hi"'`],
    [{ file: "echo", args: ["$HOME", "a;b", "*", "tab\there"] }, "echo '$HOME' 'a;b' '*' 'tab\there'"],
    [{ file: "echo", args: [""] }, "echo ''"],
  ];
  for (const [cmd, expected] of cases) {
    it(`${JSON.stringify([cmd.file, ...cmd.args])} -> ${expected}`, () => assert.equal(renderCommand(cmd), expected));
  }
});
