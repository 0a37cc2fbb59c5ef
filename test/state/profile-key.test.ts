import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { legacyProfileKey, profileKey, stateFiles } from "../../src/state/profile-key.js";

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
