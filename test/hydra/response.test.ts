import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidResponse } from "../../src/errors.js";
import {
  hydraSays,
  isRetryableStatus,
  networkErrorText,
  parseRetryAfter,
  redirectTarget,
} from "../../src/hydra/response.js";
import { failsWith } from "./helpers.js";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const URL_ = "https://hydra.example/job/acme/production/release_gate/latest-finished";

describe("parseRetryAfter", () => {
  const cases: Array<[string | null, number | undefined]> = [
    [null, undefined],
    ["", undefined],
    ["0", 0],
    ["30", 30_000],
    ["1.5", 1_500],
    ["-5", 0],
    ["Thu, 01 Jan 2026 12:00:30 GMT", 30_000],
    ["Thu, 01 Jan 2026 11:00:00 GMT", 0],
    ["soon", undefined],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} -> ${String(expected)}`, () => assert.equal(parseRetryAfter(header, NOW), expected));
  }
});

describe("isRetryableStatus", () => {
  const cases: Array<[number, boolean]> = [
    [200, false], [302, false], [400, false], [401, false], [403, false], [404, false],
    [429, true], [500, true], [502, true], [503, true], [504, true],
  ];
  for (const [status, expected] of cases) {
    it(`${status} -> ${expected}`, () => assert.equal(isRetryableStatus(status), expected));
  }
});

describe("redirectTarget", () => {
  const cases: Array<[string, string]> = [
    ["http://127.0.0.1:3000/build/281734", "/build/281734"],
    ["https://user:pw@elsewhere.example/build/5?x=1#y", "/build/5"],
    ["/build/7/constituents", "/build/7/constituents"],
    ["../../../../build/8", "/build/8"],
  ];
  for (const [location, expected] of cases) {
    it(`${location} -> ${expected}`, () => assert.equal(redirectTarget(URL_, 302, location).path, expected));
  }

  for (const location of [null, "", "   "]) {
    it(`refuses a missing Location (${JSON.stringify(location)})`, () => {
      assert.throws(
        () => redirectTarget(URL_, 302, location),
        failsWith(InvalidResponse, 65, URL_, "without a Location"),
      );
    });
  }

  it("refuses an unparseable Location without repeating it", () => {
    assert.throws(
      () => redirectTarget(URL_, 302, "http://user:s3cret@[bad"),
      (err: unknown) => failsWith(InvalidResponse, 65, "unparseable Location")(err) && !String(err).includes("s3cret"),
    );
  });
});

describe("hydraSays", () => {
  const cases: Array<[string, string]> = [
    ['{"error":"No build."}', ': Hydra says "No build."'],
    ['{"error":"line one\\n\\u001b[31mline two"}', ': Hydra says "line one [31mline two"'],
    [JSON.stringify({ error: "x".repeat(500) }), `: Hydra says "${"x".repeat(200)}"`],
    ["<html>Not found</html>", ""],
    ['{"message":"not hydra"}', ""],
    ["", ""],
  ];
  for (const [body, expected] of cases) {
    it(`${body.slice(0, 40)} -> ${expected.slice(0, 40)}`, () => assert.equal(hydraSays(body), expected));
  }
});

describe("networkErrorText", () => {
  const cases: Array<[unknown, string]> = [
    [new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } }), "connection failed (ECONNREFUSED)"],
    [Object.assign(new Error("getaddrinfo ENOTFOUND h"), { code: "ENOTFOUND" }), "connection failed (ENOTFOUND)"],
    [{ code: "ECONNRESET", message: "socket hang up" }, "connection failed (ECONNRESET)"],
    [new Error("other"), "connection failed (other)"],
  ];
  for (const [err, expected] of cases) {
    it(expected, () => assert.equal(networkErrorText(err), expected));
  }
});
