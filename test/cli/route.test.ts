import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { routeArgs } from "../../src/cli/route.js";

const COMMANDS = ["run", "deploy", "plan", "status", "hold", "release", "help"];

describe("routeArgs: run is the default command only for option-only invocations", () => {
  const cases: Array<[string[], { args: string[]; runIsDefault: boolean }]> = [
    // bare hail: commander prints the usage with the commands (exit 64), never starts run
    [[], { args: [], runIsDefault: false }],
    // the original hail's invocation: options only
    [["--gate-job", "u", "--oneshot"], { args: ["--gate-job", "u", "--oneshot"], runIsDefault: true }],
    [["--help"], { args: ["--help"], runIsDefault: true }],
    // a stray word is a command or an unknown command, never an argument of run
    [["deplyo"], { args: ["deplyo"], runIsDefault: false }],
    [["plan", "--json"], { args: ["plan", "--json"], runIsDefault: false }],
    [["help"], { args: ["help"], runIsDefault: false }],
    [["help", "plan"], { args: ["help", "plan"], runIsDefault: false }],
    // help for an unknown command: the word alone, so commander names it and suggests one
    [["help", "deplyo"], { args: ["deplyo"], runIsDefault: false }],
  ];
  for (const [args, expected] of cases) {
    it(`${JSON.stringify(args)} -> ${JSON.stringify(expected)}`, () => assert.deepEqual(routeArgs(args, COMMANDS), expected));
  }
});
