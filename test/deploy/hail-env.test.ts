import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hailEnv } from "../../src/deploy/hail-env.js";

describe("hailEnv", () => {
  it("names the profile, its store path and build id", () => {
    assert.deepEqual(hailEnv("/nix/var/nix/profiles/myapp", "/nix/store/x-app", 281735), {
      HAIL_PROFILE: "/nix/var/nix/profiles/myapp",
      HAIL_STORE_PATH: "/nix/store/x-app",
      HAIL_BUILD_ID: "281735",
    });
  });

  it("says what it does not know as an empty string", () => {
    assert.deepEqual(hailEnv("/p", null, null), { HAIL_PROFILE: "/p", HAIL_STORE_PATH: "", HAIL_BUILD_ID: "" });
  });
});
