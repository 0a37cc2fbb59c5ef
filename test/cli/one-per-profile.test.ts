import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { profileGivenTwice } from "../../src/cli/one-per-profile.js";

describe("profileGivenTwice", () => {
  const cases: Array<[string[], [number, number] | null]> = [
    [[], null],
    [["a"], null],
    [["a", "b", "c"], null],
    [["a", "a"], [0, 1]],
    [["a", "b", "a"], [0, 2]],
    // the first repeat in order, with where it was first given
    [["a", "b", "b", "a"], [1, 2]],
  ];
  for (const [profiles, expected] of cases) {
    it(`${JSON.stringify(profiles)} -> ${JSON.stringify(expected)}`, () => assert.deepEqual(profileGivenTwice(profiles), expected));
  }
});
