import assert from "node:assert/strict";
import { describe, it, test } from "node:test";
import { DURATION_LIMITS, exampleTime, formatDuration, parseBoundedDuration, parseCalendarTime, parseDuration } from "../src/duration.js";
import { parseUntil } from "../src/cli/manage.js";
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

describe("formatDuration: as an operator writes it", () => {
  const cases: Array<[number, string]> = [
    [3_600_000, "1h"],
    [7_200_000, "2h"],
    [5_400_000, "1h30m"],
    [86_400_000, "1d"],
    [7 * 86_400_000, "7d"],
    [129_600_000, "1d12h"],
    [3_723_000, "1h2m3s"],
    [300_000, "5m"],
    [90_000, "1m30s"],
    [30_000, "30s"],
    [1_500, "1s500ms"],
    [250, "250ms"],
    [0, "0s"],
  ];
  for (const [ms, text] of cases) {
    it(`${ms} ms -> ${text}`, () => assert.equal(formatDuration(ms), text));
  }

  it("formats what parseDuration reads back to the same value", () => {
    for (const ms of [250, 1_500, 30_000, 90_000, 300_000, 3_723_000, 5_400_000, 86_400_000, 129_600_000]) {
      assert.equal(parseDuration(formatDuration(ms), "--x"), ms);
    }
  });
});

describe("parseBoundedDuration: no duration overflows a timer or means a typo", () => {
  const usage = (flag: string, ...words: string[]) => (err: unknown) =>
    err instanceof UsageError && err.exitCode === 64 && err.message.includes(flag) && words.every((w) => err.message.includes(w));
  const refused: Array<[string, string, keyof typeof DURATION_LIMITS, string]> = [
    ["--poll-period", "30d", "timer", "7 days"],
    ["--poll-period", "8d", "timer", "7 days"],
    ["--activate-timeout", "9999h", "timer", "7 days"],
    ["--timeout", "30d", "timer", "7 days"],
    ["--timeout", "168h1ms", "timer", "7 days"],
    ["--rollout-window", "99999999999999999999d", "window", "365 days"],
    ["--rollout-window", "366d", "window", "365 days"],
    ["--timeout", "0s", "timer", "longer than zero"],
    ["--poll-period", "0", "timer", "longer than zero"],
  ];
  for (const [flag, text, limit, words] of refused) {
    it(`${flag} ${text} is a usage error naming the limit`, () => {
      assert.throws(() => parseBoundedDuration(text, flag, DURATION_LIMITS[limit], "m"), usage(flag, words));
    });
  }
  const accepted: Array<[string, keyof typeof DURATION_LIMITS, number]> = [
    ["7d", "timer", 7 * 86_400_000],
    ["168h", "timer", 7 * 86_400_000],
    ["1ms", "timer", 1],
    ["365d", "window", 365 * 86_400_000],
    ["0", "window", 0],
  ];
  for (const [text, limit, ms] of accepted) {
    it(`${text} is within the ${limit} limit`, () => assert.equal(parseBoundedDuration(text, "--x", DURATION_LIMITS[limit]), ms));
  }
});

describe("parseCalendarTime and hold --until", () => {
  const now = new Date("2026-11-26T00:00:00Z");
  const impossible = ["2027-02-30", "2027-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-12-01T24:00:00Z", "2026-12-01T08:60:00Z", "2026-12-01T08:00:61Z"];
  for (const text of impossible) {
    it(`${text} does not exist: a usage error, not a date rolled over`, () => {
      assert.throws(() => parseCalendarTime(text, "--until"), usage64("--until", text));
      assert.throws(() => parseUntil(text, now), usage64("--until", text));
    });
  }
  const readable: Array<[string, string]> = [
    ["2026-12-01", "2026-12-01T00:00:00.000Z"],
    ["2026-12-01T08:00:00Z", "2026-12-01T08:00:00.000Z"],
    ["2026-12-01T08:00:00.123456Z", "2026-12-01T08:00:00.123Z"],
    ["2026-12-01T08:00+01:00", "2026-12-01T07:00:00.000Z"],
    ["2026-12-01T08:00:00+0100", "2026-12-01T07:00:00.000Z"],
  ];
  for (const [text, iso] of readable) {
    it(`${text} -> ${iso}`, () => assert.equal(new Date(parseCalendarTime(text, "--until")).toISOString(), iso));
  }
  it("a leap day exists in a leap year", () => assert.equal(parseCalendarTime("2028-02-29T00:00:00Z", "--until"), Date.parse("2028-02-29T00:00:00Z")));
  it("hold --until 99999999999d is a usage error naming 365 days", () => {
    assert.throws(() => parseUntil("99999999999d", now), usage64("--until", "365 days"));
  });
  it("hold --until a date more than 365 days ahead is a usage error", () => {
    assert.throws(() => parseUntil("2028-01-01T00:00:00Z", now), usage64("--until", "365 days"));
  });
  it("hold --until 365d and a real date within a year are fine", () => {
    assert.equal(parseUntil("365d", now), new Date(now.getTime() + 365 * 86_400_000).toISOString());
    assert.equal(parseUntil("2027-02-28T12:00:00Z", now), "2027-02-28T12:00:00.000Z");
  });
});

function usage64(...words: string[]) {
  return (err: unknown) => err instanceof UsageError && err.exitCode === 64 && words.every((w) => err.message.includes(w));
}

test("the example date in --until messages is tomorrow at 08:00 UTC, so it never lies in the past", () => {
  assert.equal(exampleTime(new Date("2026-12-31T23:59:00Z")), "2027-01-01T08:00:00Z");
  assert.throws(
    () => parseCalendarTime("2026-13-01", "--until", new Date("2030-05-05T10:00:00Z")),
    (err: UsageError) => err.hint === "give a date and time such as 2030-05-06T08:00:00Z",
  );
  assert.throws(() => parseUntil("soon", new Date("2030-05-05T10:00:00Z")), /\(2030-05-06T08:00:00Z\)/);
});
