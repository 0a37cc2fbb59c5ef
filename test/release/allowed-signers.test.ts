// allowed_signers as ssh-keygen reads it: principals (quoted or not, several), the options
// namespaces=, valid-after=, valid-before=, comments; a line hail cannot read is a usage error
// (64) naming FILE:LINE, and cert-authority is refused plainly.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../../src/errors.js";
import { matchesPatternList, parseAllowedSigners, parseSignerTime } from "../../src/release/allowed-signers.js";
import { ed25519Key } from "./sshsig-fixture.js";

const FILE = "/etc/hail/allowed_signers";
const key = ed25519Key();
const other = ed25519Key();

function usageError(text: string): UsageError {
  try {
    parseAllowedSigners(text, FILE);
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.exitCode, 64);
    return err;
  }
  assert.fail("the file was accepted");
}

describe("parseAllowedSigners", () => {
  it("skips comments and blank lines, and names each signer's FILE:LINE", () => {
    const signers = parseAllowedSigners(`# release keys\n\n   \nrelease@example.org ${key.line} laptop key\n  # rotated in 2026\nci@example.org ${other.line}\n`, FILE);
    assert.deepEqual(
      signers.map((s) => [s.principals, s.source, s.keyType, s.namespaces]),
      [
        [["release@example.org"], `${FILE}:4`, "ssh-ed25519", null],
        [["ci@example.org"], `${FILE}:6`, "ssh-ed25519", null],
      ],
    );
    assert.deepEqual(signers[0]?.publicKey, key.publicKey);
  });

  it("reads several principals, and a quoted principal with spaces", () => {
    const [a, b] = parseAllowedSigners(`alice@example.org,bob@example.org ${key.line}\n"Release Team" ${other.line}\n`, FILE);
    assert.deepEqual(a?.principals, ["alice@example.org", "bob@example.org"]);
    assert.deepEqual(b?.principals, ["Release Team"]);
  });

  it("reads namespaces=, valid-after= and valid-before= (options before the key, in any case)", () => {
    const [signer] = parseAllowedSigners(`release@example.org namespaces="hail-release,git",VALID-AFTER="20260101Z",valid-before="202701011230Z" ${key.line}\n`, FILE);
    assert.deepEqual(signer?.namespaces, ["hail-release", "git"]);
    assert.equal(signer?.validAfter?.toISOString(), "2026-01-01T00:00:00.000Z");
    assert.equal(signer?.validBefore?.toISOString(), "2027-01-01T12:30:00.000Z");
  });

  it("reads a quoted namespace list holding a space, as ssh-keygen does", () => {
    const [signer] = parseAllowedSigners(`release@example.org namespaces="a b,hail-release" ${key.line}\n`, FILE);
    assert.deepEqual(signer?.namespaces, ["a b", "hail-release"]);
  });

  const bad: [string, string, RegExp][] = [
    ["cert-authority", `release@example.org cert-authority ${key.line}`, /:1: cert-authority lines \(SSH certificates\) are not supported/],
    ["an unknown option", `release@example.org no-touch-required ${key.line}`, /:1: unknown option "no-touch-required"/],
    ["an option given twice", `release@example.org namespaces="a",namespaces="b" ${key.line}`, /:1: the option namespaces is given twice/],
    ["valid-before before valid-after", `release@example.org valid-after="20270101",valid-before="20260101" ${key.line}`, /:1: valid-before is not after valid-after/],
    ["a time ssh-keygen cannot read", `release@example.org valid-after="2026-01-01" ${key.line}`, /:1: valid-after="2026-01-01" is not a time/],
    ["a day that does not exist", `release@example.org valid-before="20270230" ${key.line}`, /:1: valid-before="20270230"/],
    ["no key", "release@example.org", /:1: the line has no key/],
    ["a key type without its key", "release@example.org ssh-ed25519", /:1: the ssh-ed25519 key itself is missing/],
    ["a key that is not base64", "release@example.org ssh-ed25519 AAAA!!!!", /:1: the ssh-ed25519 key is not base64/],
    ["a key of another type than the line says", `release@example.org ecdsa-sha2-nistp256 ${key.line.split(" ")[1]}`, /:1: the line says ecdsa-sha2-nistp256 but the key inside is "ssh-ed25519"/],
    ["an unclosed quote", `"release team ${key.line}`, /:1: cannot read the principals/],
    ["an empty principal", `alice,,bob ${key.line}`, /:1: an empty principal/],
  ];
  for (const [what, line, message] of bad) {
    it(`refuses ${what} with 64 naming FILE:LINE`, () => {
      const err = usageError(`${line}\n`);
      assert.match(err.message, new RegExp(`^${FILE.replace(/\//g, "\\/")}`));
      assert.match(err.message, message);
    });
  }

  it("counts lines from 1, comments included", () => {
    assert.match(usageError(`# one\n\nrelease@example.org ${key.line}\nbroken-line\n`).message, /allowed_signers:4: the line has no key/);
  });
});

describe("parseSignerTime", () => {
  it("reads ssh-keygen's forms: UTC with Z or UTC, local time without", () => {
    assert.equal(parseSignerTime("20260102")?.getTime(), new Date(2026, 0, 2).getTime());
    assert.equal(parseSignerTime("202601020304z")?.toISOString(), "2026-01-02T03:04:00.000Z");
    assert.equal(parseSignerTime("20260102030405UTC")?.toISOString(), "2026-01-02T03:04:05.000Z");
    for (const text of ["2026010", "202601020304Q", "20261301", "20260102250000Z", ""]) assert.equal(parseSignerTime(text), null, text);
  });
});

describe("matchesPatternList (ssh's pattern lists, as namespaces= uses them)", () => {
  const cases: [string, string[], boolean][] = [
    ["hail-release", ["hail-release"], true],
    ["hail-release", ["git", "file"], false],
    ["hail-release", ["hail-*"], true],
    ["hail-release", ["hail-releas?"], true],
    ["hail-release", ["*", "!hail-release"], false],
    ["hail-release", ["!git"], false],
    ["hail.release", ["hail-release"], false],
    ["hail-release", [""], false],
  ];
  for (const [value, patterns, expected] of cases) {
    it(`${value} against ${JSON.stringify(patterns)}: ${expected}`, () => assert.equal(matchesPatternList(value, patterns), expected));
  }
});
