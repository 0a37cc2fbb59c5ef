import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generationsToDelete } from "../../src/profile/keep-generations.js";

describe("generationsToDelete (--keep-generations)", () => {
  // [what, all generations, keep, [current, rollback target], expected deletions]
  const cases: Array<[string, number[], number, (number | null)[], number[]]> = [
    ["keep 2 of 4 after deploying 4 (rollback target 3)", [1, 2, 3, 4], 2, [4, 3], [1, 2]],
    ["keep 2 of 5", [1, 2, 3, 4, 5], 2, [5, 4], [1, 2, 3]],
    ["keep 1 still keeps the rollback target", [1, 2, 3, 4], 1, [4, 3], [1, 2]],
    ["an old rollback target survives (after a manual rollback, say)", [1, 2, 3, 4, 5, 6], 1, [6, 2], [1, 3, 4, 5]],
    ["the current generation survives when it is not among the newest", [1, 2, 3, 4], 2, [2, null], [1]],
    ["keep more than there are: nothing", [1, 2, 3], 5, [3, 2], []],
    ["keep exactly as many as there are: nothing", [1, 2, 3], 3, [3, 2], []],
    ["a first deployment: nothing to delete", [1], 1, [1, null], []],
    ["no generations at all", [], 2, [null, null], []],
    ["gaps in the numbering", [3, 7, 8, 12, 20], 2, [20, 12], [3, 7, 8]],
    ["unsorted input, ascending output", [4, 1, 3, 2], 2, [4, 3], [1, 2]],
    ["keep 0 is treated as 1: the newest is never deleted", [1, 2, 3], 0, [null, null], [1, 2]],
    ["protection of a generation that does not exist changes nothing", [1, 2, 3, 4], 2, [4, 9], [1, 2]],
  ];
  for (const [what, all, keep, protect, expected] of cases) {
    it(`${what}: [${all.join(",")}] keep ${keep} protect [${protect.join(",")}] -> [${expected.join(",")}]`, () => {
      assert.deepEqual(generationsToDelete(all, keep, protect), expected);
    });
  }

  it("never returns a protected generation nor one of the newest N", () => {
    for (let n = 1; n <= 8; n++) {
      const all = Array.from({ length: n }, (_, i) => i + 1);
      for (let keep = 1; keep <= n + 1; keep++) {
        for (const rollback of [null, ...all]) {
          const current = all.at(-1) ?? null;
          const doomed = generationsToDelete(all, keep, [current, rollback]);
          const newest = all.slice(-keep);
          for (const g of doomed) {
            assert.ok(g !== current && g !== rollback, `deleted protected ${g}`);
            assert.ok(!newest.includes(g), `deleted one of the newest ${keep}: ${g}`);
          }
          assert.equal(new Set([...doomed, ...newest, ...(rollback === null ? [] : [rollback])]).size, n, "everything else is deleted");
        }
      }
    }
  });

  it("does not modify its input", () => {
    const all = [3, 1, 2];
    generationsToDelete(all, 1, [3, null]);
    assert.deepEqual(all, [3, 1, 2]);
  });
});
