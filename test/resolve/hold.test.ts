import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { activeHold } from "../../src/resolve/decide.js";

describe("activeHold", () => {
  const now = new Date("2026-06-01T12:00:00.000Z");
  const cases: Array<[string, { reason: string | null; until: string | null } | null, boolean]> = [
    ["no hold", null, false],
    ["a hold without an end", { reason: "freeze", until: null }, true],
    ["a hold until later", { reason: null, until: "2026-06-01T12:00:00.001Z" }, true],
    ["a hold that ends now", { reason: null, until: "2026-06-01T12:00:00.000Z" }, false],
    ["a hold that ended", { reason: "x", until: "2026-05-01T00:00:00.000Z" }, false],
  ];
  for (const [name, hold, holds] of cases) {
    it(`${name}: ${holds ? "holds" : "holds nothing"}`, () => assert.equal(activeHold(hold, now), holds ? hold : null));
  }
});
