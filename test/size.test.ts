import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../src/errors.js";
import { formatSize, parseSize } from "../src/size.js";

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

describe("parseSize", () => {
  const cases: Array<[string, number]> = [
    ["0", 0],
    ["1024", 1024],
    ["1B", 1],
    ["1b", 1],
    ["1GiB", GiB],
    ["1gib", GiB],
    ["500MiB", 500 * MiB],
    ["2G", 2 * GiB],
    ["2g", 2 * GiB],
    ["1.5GB", 1_500_000_000],
    ["1.5GiB", 1.5 * GiB],
    ["10 MiB", 10 * MiB],
    ["  64KiB  ", 64 * KiB],
    ["4K", 4 * KiB],
    ["1kb", 1000],
    ["3MB", 3_000_000],
    ["2TiB", 2 * TiB],
    ["1TB", 1e12],
    ["0.5KiB", 512],
    ["0GiB", 0],
  ];
  for (const [text, bytes] of cases) {
    it(`${JSON.stringify(text)} -> ${bytes}`, () => assert.equal(parseSize(text, "--min-free"), bytes));
  }

  it("100000TiB is a (very) large finite number", () => {
    const bytes = parseSize("100000TiB", "--min-free");
    assert.ok(Number.isFinite(bytes));
    assert.equal(bytes, 100000 * TiB);
  });

  const bad = ["", "GiB", "abc", "-1GiB", "1XB", "1PiB", "1.5.2G", "1e9", "1 G i B", "1,5GiB", ".5G"];
  for (const text of bad) {
    it(`${JSON.stringify(text)} is a usage error naming the flag`, () => {
      assert.throws(
        () => parseSize(text, "--min-free"),
        (err: unknown) => {
          assert.ok(err instanceof UsageError);
          assert.equal(err.exitCode, 64);
          assert.match(err.message, /^--min-free: cannot read size/);
          assert.ok(err.message.includes(JSON.stringify(text)), err.message);
          return true;
        },
      );
    });
  }
});

describe("formatSize", () => {
  const cases: Array<[number, string]> = [
    [0, "0 B"],
    [1, "1 B"],
    [372, "372 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [MiB, "1.0 MiB"],
    [4.5 * MiB, "4.5 MiB"],
    [GiB, "1.0 GiB"],
    [80 * GiB, "80.0 GiB"],
    [TiB, "1.0 TiB"],
    [2048 * TiB, "2048.0 TiB"],
  ];
  for (const [bytes, text] of cases) {
    it(`${bytes} -> ${text}`, () => assert.equal(formatSize(bytes), text));
  }

  it("round-trips through parseSize for whole binary units", () => {
    for (const text of ["1.0 KiB", "3.0 MiB", "7.0 GiB", "2.0 TiB"]) assert.equal(formatSize(parseSize(text, "--x")), text);
  });
});
