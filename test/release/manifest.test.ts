// The release manifest's schema: every field checked, unknown ones refused, as
// ReleaseRejected("manifest-invalid") (exit 65) naming the field and the URL.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReleaseRejected } from "../../src/errors.js";
import { parseReleaseManifest } from "../../src/release/manifest.js";
import { APP_PATH, manifestBytes } from "./sshsig-fixture.js";

const URL = "https://releases.example.org/myapp.json";

function rejection(bytes: Uint8Array, storeDir?: string): ReleaseRejected {
  try {
    parseReleaseManifest(bytes, URL, storeDir);
  } catch (err) {
    assert.ok(err instanceof ReleaseRejected, String(err));
    return err;
  }
  assert.fail("the manifest was accepted");
}

describe("parseReleaseManifest", () => {
  it("reads a valid manifest, with and without expires", () => {
    assert.deepEqual(parseReleaseManifest(manifestBytes(), URL), { "hail-release": 1, job: "myproject/main/release_gate", build: 100, constituents: { myapp: APP_PATH } });
    assert.equal(parseReleaseManifest(manifestBytes({ expires: "2027-01-01T00:00:00Z" }), URL).expires, "2027-01-01T00:00:00Z");
    assert.equal(parseReleaseManifest(manifestBytes({ expires: "2027-01-01T02:00:00.5+02:00" }), URL).expires, "2027-01-01T02:00:00.5+02:00");
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ["an unknown field", { signer: "me" }, /signer/],
    ["another format version", { "hail-release": 2 }, /hail-release/],
    ["a job that is not PROJECT/JOBSET/JOB", { job: "myproject/release_gate" }, /job: expected PROJECT\/JOBSET\/JOB/],
    ["a job with a space", { job: "my project/main/release_gate" }, /job/],
    ["build 0", { build: 0 }, /build/],
    ["a negative build", { build: -5 }, /build/],
    ["a fractional build", { build: 1.5 }, /build/],
    ["a build as a string", { build: "100" }, /build/],
    ["an unsafe build number", { build: 2 ** 60 }, /build/],
    ["a derivation", { constituents: { myapp: "/nix/store/9z3pq0yc4ck6h9wdy5r5a7cdbfh4bm8v-myapp-1.drv" } }, /constituents\.myapp: not a plain store path/],
    ["a path outside the store", { constituents: { myapp: "/tmp/9z3pq0yc4ck6h9wdy5r5a7cdbfh4bm8v-myapp-1" } }, /constituents\.myapp/],
    ["a path below an output", { constituents: { myapp: `${APP_PATH}/bin/sh` } }, /constituents\.myapp/],
    ["a hash with letters Nix never uses", { constituents: { myapp: "/nix/store/ez3pq0yc4ck6h9wdy5r5a7cdbfh4bm8v-myapp-1" } }, /constituents\.myapp/],
    ["a name with a shell character", { constituents: { myapp: "/nix/store/9z3pq0yc4ck6h9wdy5r5a7cdbfh4bm8v-my$app" } }, /constituents\.myapp/],
    ["a constituent name with a slash", { constituents: { "my/app": APP_PATH } }, /not a Hydra job name/],
    ["no constituents", { constituents: {} }, /names no constituent/],
    ["expires as a date only", { expires: "2027-01-01" }, /expires/],
    ["expires in words", { expires: "tomorrow" }, /expires/],
    ["expires without a zone", { expires: "2027-01-01T00:00:00" }, /expires/],
  ];
  for (const [what, extra, field] of refused) {
    it(`refuses ${what}: manifest-invalid naming the field and the URL`, () => {
      const err = rejection(manifestBytes(extra));
      assert.equal(err.kind, "manifest-invalid");
      assert.equal(err.exitCode, 65);
      assert.match(err.message, field);
      assert.ok(err.message.includes(URL), err.message);
    });
  }

  it("refuses bytes that are not JSON, or not UTF-8", () => {
    assert.equal(rejection(new TextEncoder().encode("{not json")).kind, "manifest-invalid");
    assert.match(rejection(new Uint8Array([0x7b, 0xff, 0x7d])).message, /not UTF-8 JSON/);
  });

  it("checks out paths against the store directory it is given", () => {
    const elsewhere = { constituents: { myapp: "/opt/store/9z3pq0yc4ck6h9wdy5r5a7cdbfh4bm8v-myapp-1" } };
    assert.equal(parseReleaseManifest(manifestBytes(elsewhere), URL, "/opt/store").constituents["myapp"], "/opt/store/9z3pq0yc4ck6h9wdy5r5a7cdbfh4bm8v-myapp-1");
    assert.match(rejection(manifestBytes(elsewhere)).message, /under \/nix\/store/);
  });
});
