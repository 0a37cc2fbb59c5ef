import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyOfStateFile, stateFiles } from "../../src/profile/key.js";

describe("a profile's state and lock files", () => {
  it("sit side by side under the state directory, named for the key", () => {
    assert.deepEqual(stateFiles("/var/lib/hail", "nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp"), {
      state: "/var/lib/hail/nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp.json",
      lock: "/var/lib/hail/nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp.lock",
    });
  });

  const names: Array<[string, string | null]> = [
    ["nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp.json", "nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp"],
    ["myapp.lock", null],
    ["myapp.json.tmp", null],
    // hidden files are hail's temporaries, never a state file
    [".myapp.json", null],
  ];
  for (const [name, key] of names) {
    it(`${name} -> ${JSON.stringify(key)}`, () => assert.equal(keyOfStateFile(name), key));
  }

  it("a state file's key gives back its lock file", () => {
    const files = stateFiles("/var/lib/hail", "srv%2Fprofiles%2Fapp");
    const key = keyOfStateFile("srv%2Fprofiles%2Fapp.json");
    assert.ok(key !== null);
    assert.equal(stateFiles("/var/lib/hail", key).lock, files.lock);
  });
});
