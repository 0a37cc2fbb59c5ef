import assert from "node:assert/strict";
import { basename } from "node:path";
import { describe, it } from "node:test";
import { keyOfStateFile, legacyProfileKey, profileKey, stateFiles } from "../../src/profile/key.js";

describe("profileKey", () => {
  const cases: Array<[string, string]> = [
    ["/nix/var/nix/profiles/myapp", "nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp"],
    ["/nix/var/nix/profiles/hail/myapp", "nix%2Fvar%2Fnix%2Fprofiles%2Fhail%2Fmyapp"],
    ["/srv/100%/app", "srv%2F100%25%2Fapp"],
    ["/srv//profiles/./app", "srv%2Fprofiles%2Fapp"],
  ];
  for (const [path, key] of cases) it(`${path} -> ${key}`, () => assert.equal(profileKey(path), key));

  it("never gives two profiles the same key", () => {
    // without escaping "%", these two would both become a%2Fb
    assert.notEqual(profileKey("/a/b"), profileKey("/a%2Fb"));
    assert.notEqual(profileKey("/one/profiles/app"), profileKey("/two/profiles/app"));
  });
});

describe("legacyProfileKey", () => {
  const DIR = "/nix/var/nix/profiles";
  it("is the name relative to --profiles-dir", () => {
    assert.equal(legacyProfileKey(`${DIR}/myapp`, DIR), "myapp");
    assert.equal(legacyProfileKey(`${DIR}/hail/myapp`, DIR), "hail%2Fmyapp");
  });

  it("is the escaped full path for a profile outside --profiles-dir", () => {
    assert.equal(legacyProfileKey("/srv/app", DIR), "%2Fsrv%2Fapp");
    assert.equal(legacyProfileKey(DIR, DIR), "%2Fnix%2Fvar%2Fnix%2Fprofiles");
  });
});

describe("stateFiles", () => {
  it("puts the state and the lock of one key side by side in the state dir", () => {
    assert.deepEqual(stateFiles("/var/lib/hail", "nix%2Fapp"), { state: "/var/lib/hail/nix%2Fapp.json", lock: "/var/lib/hail/nix%2Fapp.lock" });
  });
});

describe("profileKey of a long profile path", () => {
  const bytes = (s: string) => Buffer.byteLength(s);
  /** An absolute path whose key has exactly `n` bytes. */
  const pathWithKeyOf = (n: number) => `/nix/var/nix/profiles/${"a".repeat(n - "nix%2Fvar%2Fnix%2Fprofiles%2F".length)}`;

  it("keeps today's key for every path whose key has up to 223 bytes (existing state files keep their names)", () => {
    for (const n of [200, 216, 223]) assert.equal(profileKey(pathWithKeyOf(n)), pathWithKeyOf(n).slice(1).replaceAll("/", "%2F"));
    assert.match(profileKey(pathWithKeyOf(224)), /%-[0-9a-f]{32}$/, "one byte more is shortened");
  });

  it("shortens a longer key to a readable start, %- and a hash: a valid 230-character profile name fits", () => {
    const path = `/nix/var/nix/profiles/${"p".repeat(230)}`;
    const key = profileKey(path);
    assert.ok(bytes(key) <= 223, `${bytes(key)} bytes`);
    assert.match(key, /^nix%2Fvar%2Fnix%2Fprofiles%2Fpppp+%-[0-9a-f]{32}$/);
    assert.ok(bytes(`.${key}.json.4194304.1765000000000.tmp`) <= 255, "the state file's temporary name fits");
    assert.equal(profileKey(path), key, "the same key every time");
  });

  it("never gives two long paths the same key, nor a long path the key of a short one", () => {
    const a = profileKey(`/srv/${"p".repeat(300)}a`);
    const b = profileKey(`/srv/${"p".repeat(300)}b`);
    assert.notEqual(a, b);
    // "%-" never occurs in an escaped path, so no short path's key looks like a shortened one
    assert.ok(!profileKey(`/srv/x%-${"0".repeat(32)}`).includes("%-"));
  });

  it("cuts between UTF-8 characters and never in the middle of an escape", () => {
    const key = profileKey(`/srv/${"é".repeat(200)}`);
    assert.ok(bytes(key) <= 223);
    assert.ok(!key.includes("\uFFFD"));
    for (let cut = 1; cut < 4; cut++) {
      const slashes = profileKey(`/${"a".repeat(185 + cut)}${"/b".repeat(40)}`);
      assert.match(slashes, /(%2F|[ab])%-[0-9a-f]{32}$/, slashes);
    }
  });

  it("keyOfStateFile gives back a shortened key from its state file's name", () => {
    const key = profileKey(`/srv/${"p".repeat(300)}`);
    assert.equal(keyOfStateFile(basename(stateFiles("/var/lib/hail", key).state)), key);
  });

  it("legacyProfileKey keeps any legacy name that fits as a file, and shortens one that cannot exist", () => {
    const DIR = "/nix/var/nix/profiles";
    assert.equal(legacyProfileKey(`${DIR}/${"p".repeat(230)}`, DIR), "p".repeat(230));
    const longer = legacyProfileKey(`${DIR}/${"p".repeat(251)}`, DIR);
    assert.ok(bytes(`${longer}.json`) <= 255);
    assert.match(longer, /%-[0-9a-f]{32}$/);
  });
});
