import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDuration, parseDuration } from "../src/duration.js";
import { UsageError } from "../src/errors.js";

describe("parseDuration", () => {
  const cases: Array<[string, "ms" | "s" | "m" | "h" | "d" | undefined, number]> = [
    ["30s", undefined, 30_000],
    ["5m", undefined, 300_000],
    ["1h", undefined, 3_600_000],
    ["1d", undefined, 86_400_000],
    ["1h30m", undefined, 5_400_000],
    ["1m30s", undefined, 90_000],
    ["250ms", undefined, 250],
    ["1s250ms", undefined, 1_250],
    ["1.5h", undefined, 5_400_000],
    ["0.5s", undefined, 500],
    [" 5m ", undefined, 300_000],
    ["0s", undefined, 0],
    ["5", undefined, 5_000],
    ["5", "m", 300_000],
    ["1.5", "m", 90_000],
    ["5m", "m", 300_000],
    ["30s", "m", 30_000],
  ];
  for (const [text, bareUnit, ms] of cases) {
    it(`${JSON.stringify(text)}${bareUnit ? ` (bare ${bareUnit})` : ""} -> ${ms} ms`, () => {
      assert.equal(parseDuration(text, "--poll-period", bareUnit), ms);
    });
  }

  const bad = ["", "   ", "5x", "m5", "-5m", "5 m", "1m30", "5mm", "1.5.5m", "five", "5M", "1e3", ".5s"];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}, naming the flag and the text`, () => {
      assert.throws(
        () => parseDuration(text, "--activate-timeout"),
        (err: unknown) =>
          err instanceof UsageError &&
          err.exitCode === 64 &&
          err.message.includes("--activate-timeout") &&
          err.message.includes(JSON.stringify(text)),
      );
    });
  }
});

describe("formatDuration", () => {
  const cases: Array<[number, string]> = [
    [3_600_000, "1h"],
    [7_200_000, "2h"],
    [5_400_000, "90m"],
    [300_000, "5m"],
    [90_000, "90s"],
    [30_000, "30s"],
    [1_500, "1500ms"],
    [250, "250ms"],
    [0, "0s"],
  ];
  for (const [ms, text] of cases) {
    it(`${ms} ms -> ${text}`, () => assert.equal(formatDuration(ms), text));
  }

  it("formats what parseDuration reads back to the same value", () => {
    for (const ms of [250, 30_000, 300_000, 5_400_000, 86_400_000]) {
      assert.equal(parseDuration(formatDuration(ms), "--x"), ms);
    }
  });
});
