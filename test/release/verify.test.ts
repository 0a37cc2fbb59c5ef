// verifyRelease: each way a release is refused, with its kind (logs and metrics count them) and
// exit 65, and the signer it names when it is accepted. Keys and signatures are made in-process
// (sshsig-fixture.ts); test/release/interop.test.ts does the same with the real ssh-keygen.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReleaseRejected, type ReleaseRejectionKind } from "../../src/errors.js";
import { parseAllowedSigners, type AllowedSigner } from "../../src/release/allowed-signers.js";
import { fingerprintOf } from "../../src/release/ssh-keys.js";
import { verifyRelease } from "../../src/release/verify.js";
import { ed25519Key, manifestBytes, skEcdsaKey, skEd25519Key, sshsig } from "./sshsig-fixture.js";

const URL = "https://releases.example.org/myapp.json";
const NOW = new Date("2026-12-07T12:00:00Z");
const releaseKey = ed25519Key();
const strangerKey = ed25519Key();
const gitKey = ed25519Key();

function signers(text: string): AllowedSigner[] {
  return parseAllowedSigners(text, "/etc/hail/allowed_signers");
}

const SIGNERS = signers(`release@example.org namespaces="hail-release" ${releaseKey.line}\ngit@example.org namespaces="git" ${gitKey.line}\n`);

function refusal(bytes: Uint8Array, signature: string, list = SIGNERS, now = NOW): ReleaseRejected {
  try {
    verifyRelease(bytes, signature, list, now, URL);
  } catch (err) {
    assert.ok(err instanceof ReleaseRejected, String(err));
    return err;
  }
  assert.fail("the release was accepted");
}

function assertRefused(kind: ReleaseRejectionKind, err: ReleaseRejected, ...named: RegExp[]): void {
  assert.equal(err.kind, kind, err.message);
  assert.equal(err.exitCode, 65);
  assert.ok(err.message.includes(URL), err.message);
  assert.doesNotMatch(err.message, /\n/, "one line");
  for (const part of named) assert.match(err.message, part);
}

describe("verifyRelease", () => {
  it("accepts a manifest signed by a listed key, naming the principal and the key's fingerprint", () => {
    const bytes = manifestBytes();
    const release = verifyRelease(bytes, sshsig(releaseKey, bytes), SIGNERS, NOW, URL);
    assert.equal(release.principal, "release@example.org");
    assert.equal(release.fingerprint, fingerprintOf(releaseKey.publicKey));
    assert.match(release.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(release.manifest.build, 100);
  });

  it("accepts SHA-256 as the message hash too, and a line without namespaces=", () => {
    const bytes = manifestBytes();
    const any = signers(`ops@example.org,release@example.org ${releaseKey.line}\n`);
    assert.equal(verifyRelease(bytes, sshsig(releaseKey, bytes, { hash: "sha256" }), any, NOW, URL).principal, "ops@example.org,release@example.org");
  });

  it("accepts FIDO hardware keys (sk-ssh-ed25519, sk-ecdsa-sha2-nistp256), and refuses their signature over other bytes", () => {
    for (const key of [skEd25519Key(), skEcdsaKey()]) {
      const list = signers(`token@example.org namespaces="hail-release" ${key.line}\n`);
      const bytes = manifestBytes();
      const signature = sshsig(key, bytes);
      assert.equal(verifyRelease(bytes, signature, list, NOW, URL).principal, "token@example.org", key.line);
      assertRefused("signature-invalid", refusal(manifestBytes({ build: 101 }), signature, list), /does not match/);
    }
  });

  it("signature-missing: an empty signature file", () => {
    assertRefused("signature-missing", refusal(manifestBytes(), "  \n"), /\.sig is empty/);
  });

  it("signature-invalid: text that is no armored SSHSIG, or a blob cut short", () => {
    assertRefused("signature-invalid", refusal(manifestBytes(), "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n"), /not an armored SSH signature/);
    const good = sshsig(releaseKey, manifestBytes()).split("\n");
    const cut = [good[0], good[1], good.at(-2)].join("\n");
    assertRefused("signature-invalid", refusal(manifestBytes(), cut), /cannot be read/);
  });

  it("signature-invalid: one byte of the manifest changed after signing", () => {
    const bytes = manifestBytes();
    const signature = sshsig(releaseKey, bytes);
    const tampered = Uint8Array.from(bytes);
    const at = new TextDecoder().decode(bytes).indexOf("100");
    tampered[at] = "9".charCodeAt(0); // build 100 → 900
    assertRefused("signature-invalid", refusal(tampered, signature), /does not match the manifest's bytes/);
  });

  it("signature-invalid: a blob that claims hail-release over a signature made for another namespace", () => {
    const bytes = manifestBytes();
    assertRefused("signature-invalid", refusal(bytes, sshsig(releaseKey, bytes, { signedNamespace: "file" })));
  });

  it("signer-unknown: a good signature by a key allowed_signers does not list", () => {
    const bytes = manifestBytes();
    assertRefused("signer-unknown", refusal(bytes, sshsig(strangerKey, bytes)), new RegExp(fingerprintOf(strangerKey.publicKey).replace(/[+/]/g, "\\$&")), /does not list/);
  });

  it("namespace-wrong: a key listed only for another namespace", () => {
    const bytes = manifestBytes();
    assertRefused("namespace-wrong", refusal(bytes, sshsig(gitKey, bytes)), /listed only for other namespaces/, /allowed_signers:2/);
  });

  it("namespace-wrong: a signature made with -n other, even by a key listed for any namespace", () => {
    const bytes = manifestBytes();
    const any = signers(`release@example.org ${releaseKey.line}\n`);
    assertRefused("namespace-wrong", refusal(bytes, sshsig(releaseKey, bytes, { namespace: "file" }), any), /namespace "file", not hail-release/);
  });

  it("takes the line that allows hail-release when a key has several", () => {
    const bytes = manifestBytes();
    const two = signers(`git@example.org namespaces="git" ${releaseKey.line}\nrelease@example.org namespaces="hail-*" ${releaseKey.line}\n`);
    assert.equal(verifyRelease(bytes, sshsig(releaseKey, bytes), two, NOW, URL).principal, "release@example.org");
  });

  it("signer-unknown: a key outside its valid-after/valid-before, as ssh-keygen judges it", () => {
    const bytes = manifestBytes();
    const signature = sshsig(releaseKey, bytes);
    const retired = signers(`release@example.org valid-before="20261201Z" ${releaseKey.line}\n`);
    assertRefused("signer-unknown", refusal(bytes, signature, retired), /not valid at 2026-12-07T12:00:00.000Z/);
    const future = signers(`release@example.org valid-after="20270101Z" ${releaseKey.line}\n`);
    assertRefused("signer-unknown", refusal(bytes, signature, future), /not valid/);
    // the last second of valid-before still counts (ssh-keygen refuses only after it)
    const edge = signers(`release@example.org valid-before="20261207120000Z" ${releaseKey.line}\n`);
    assert.equal(verifyRelease(bytes, signature, edge, NOW, URL).principal, "release@example.org");
  });

  it("manifest-invalid: a good signature over a manifest that breaks the schema", () => {
    const bytes = manifestBytes({ build: -1 });
    assertRefused("manifest-invalid", refusal(bytes, sshsig(releaseKey, bytes)), /build/);
  });

  it("manifest-expired: expires not after now; a later expiry is accepted", () => {
    const expired = manifestBytes({ expires: "2026-12-07T12:00:00Z" });
    assertRefused("manifest-expired", refusal(expired, sshsig(releaseKey, expired)), /expired at 2026-12-07T12:00:00Z/);
    const later = manifestBytes({ expires: "2026-12-07T13:00:00+01:00" });
    assertRefused("manifest-expired", refusal(later, sshsig(releaseKey, later)), /expired/);
    const fresh = manifestBytes({ expires: "2026-12-08T00:00:00Z" });
    assert.equal(verifyRelease(fresh, sshsig(releaseKey, fresh), SIGNERS, NOW, URL).manifest.expires, "2026-12-08T00:00:00Z");
  });
});
