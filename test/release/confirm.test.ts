import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReleaseRejected } from "../../src/errors.js";
import { checkHydraAgrees, checkReleaseJob, describeRelease, signedPathOf } from "../../src/release/confirm.js";
import type { ReleaseManifest } from "../../src/release/manifest.js";

const URL = "https://releases.example.org/myapp.json";
const APP1 = "/nix/store/5nj1nfm0lld2jjlqi7wjrv7vhcaig3w0-myapp-1.0";
const APP2 = "/nix/store/0k0w3kfr3x9cp8hmnsj9cqgnhj6g287z-myapp-2.0";
const manifest: ReleaseManifest = { "hail-release": 1, job: "myproject/main/release_gate", build: 100, constituents: { myapp: APP1 } };
const gate = { project: "myproject", jobset: "main", job: "release_gate" };

function rejection(fn: () => unknown): ReleaseRejected {
  try {
    fn();
  } catch (err) {
    if (err instanceof ReleaseRejected) return err;
    throw err;
  }
  assert.fail("not refused");
}

describe("checkReleaseJob", () => {
  it("passes the gate's own job", () => {
    checkReleaseJob(manifest, gate, URL);
  });

  it("refuses another project, jobset or job (job-mismatch, 65), naming both", () => {
    for (const other of [{ ...gate, project: "other" }, { ...gate, jobset: "staging" }, { ...gate, job: "gate2" }]) {
      const err = rejection(() => checkReleaseJob(manifest, other, URL));
      assert.equal(err.kind, "job-mismatch");
      assert.equal(err.exitCode, 65);
      assert.match(err.message, new RegExp(`for job myproject/main/release_gate, not for ${other.project}/${other.jobset}/${other.job}`));
    }
  });
});

describe("signedPathOf", () => {
  it("is the path the release names for the constituent", () => {
    assert.equal(signedPathOf(manifest, "myapp", URL), APP1);
  });

  it("refuses a constituent the release does not name, also one an object inherits (toString)", () => {
    for (const name of ["web", "toString", "__proto__"]) {
      const err = rejection(() => signedPathOf(manifest, name, URL));
      assert.equal(err.kind, "manifest-invalid");
      assert.match(err.message, new RegExp(`names no constituent "${name}" \\(it names: myapp\\)`));
    }
  });
});

describe("checkHydraAgrees", () => {
  const release = { url: URL, build: 100, constituent: "myapp", signedPath: APP1 };

  it("passes when Hydra resolves the signed path", () => {
    checkHydraAgrees(release, APP1, "https://hydra.example.org/build/100");
  });

  it("refuses another path (hydra-disagrees, 65), naming both paths", () => {
    const err = rejection(() => checkHydraAgrees(release, APP2, "https://hydra.example.org/build/100"));
    assert.equal(err.kind, "hydra-disagrees");
    assert.equal(err.exitCode, 65);
    assert.ok(err.message.includes(`the release names ${APP1}`) && err.message.includes(`resolves ${APP2}`), err.message);
  });
});

describe("describeRelease", () => {
  it("names the build, the signer, the key and the expiry when there is one", () => {
    const r = { build: 100, principal: "alice@example.org", fingerprint: "SHA256:abc", expires: null };
    assert.equal(describeRelease(r), "signed gate build 100 by alice@example.org (SHA256:abc)");
    assert.equal(describeRelease({ ...r, expires: "2027-01-01T00:00:00Z" }), "signed gate build 100 by alice@example.org (SHA256:abc), expires 2027-01-01T00:00:00Z");
  });
});
