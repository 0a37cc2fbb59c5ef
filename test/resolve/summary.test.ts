import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cutShort, describeIds, describeNames, newestIds } from "../../src/resolve/summary.js";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("describeIds", () => {
  const cases: Array<[string, number[], string]> = [
    ["none", [], "none"],
    ["one", [19022], "19022"],
    ["a few, in Hydra's order", [19022, 19017], "19022,19017"],
    ["ten", range(1, 10), "1,2,3,4,5,6,7,8,9,10"],
    ["eleven", range(1, 11), "1…11 (11 ids)"],
    ["unordered", [5, 900, 3, ...range(10, 20)], "3…900 (14 ids)"],
  ];
  for (const [what, ids, expected] of cases) it(`${what} -> ${expected}`, () => assert.equal(describeIds(ids), expected));

  it("a million ids: min…max and the count", () => assert.equal(describeIds(range(1, 1_000_000)), "1…1000000 (1,000,000 ids)"));
  it("with another separator", () => assert.equal(describeIds([281735, 281790], " and "), "281735 and 281790"));
});

describe("describeNames", () => {
  it("a few names, whole", () => assert.equal(describeNames(["worker", "docs"]), "worker, docs"));
  it("many: the first ten and how many more", () => {
    const names = range(1, 100_000).map((n) => `job${n}`);
    assert.equal(describeNames(names), "job1, job2, job3, job4, job5, job6, job7, job8, job9, job10, … and 99,990 more");
  });
  it("a long name is cut", () => assert.equal(describeNames(["x".repeat(1_000_000)]), `${"x".repeat(100)}…`));
});

describe("cutShort", () => {
  it("leaves a short string alone", () => assert.equal(cutShort("abc", 3), "abc"));
  it("cuts a long one", () => assert.equal(cutShort("abcd", 3), "abc…"));
});

describe("newestIds", () => {
  it("the newest, ascending, without duplicates", () => assert.deepEqual(newestIds([19022, 19017, 18999, 19022], 2), [19017, 19022]));
  it("all when there are fewer", () => assert.deepEqual(newestIds([3, 1, 2], 100), [1, 2, 3]));
  it("none", () => assert.deepEqual(newestIds([], 100), []));
  it("numerically, not as text", () => assert.deepEqual(newestIds([9, 10, 100], 3), [9, 10, 100]));
  it("a million ids", () => assert.deepEqual(newestIds(range(1, 1_000_000).reverse(), 3), [999_998, 999_999, 1_000_000]));
});
