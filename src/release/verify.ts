/**
 * Whether a release manifest is one hail may deploy from: an SSHSIG signature in namespace
 * hail-release, by a key allowed_signers lists for it, over exactly these bytes, and a manifest
 * that is valid and not expired. Pure: the caller fetches the bytes and reads the file.
 */
import { ReleaseRejected } from "../errors.js";
import { DEFAULT_STORE_DIR } from "../nix/store-path-shape.js";
import { serverText } from "../server-text.js";
import { matchesPatternList, type AllowedSigner } from "./allowed-signers.js";
import { parseReleaseManifest, RELEASE_NAMESPACE, type ReleaseManifest } from "./manifest.js";
import { fingerprintOf, parsePublicKey } from "./ssh-keys.js";
import { dearmor, parseSshSignature, signedData, type SshSignature } from "./sshsig.js";
import { WireError } from "./ssh-wire.js";

export interface VerifiedRelease {
  manifest: ReleaseManifest;
  /** the principals of the allowed_signers line that matched, comma-separated as ssh-keygen -Y find-principals prints them */
  principal: string;
  /** SHA256:… as ssh-keygen prints it */
  fingerprint: string;
}

const SIGN_HINT = "sign the manifest with `hail sign`, or with `ssh-keygen -Y sign -n hail-release -f KEY MANIFEST`";

function readSignature(signatureText: string, url: string): SshSignature {
  if (signatureText.trim() === "") throw new ReleaseRejected("signature-missing", url, `the signature ${url}.sig is empty`, SIGN_HINT);
  try {
    return parseSshSignature(dearmor(signatureText));
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
    throw new ReleaseRejected("signature-invalid", url, `the signature ${url}.sig cannot be read: ${err.message}`, SIGN_HINT);
  }
}

/** Whether `signer` may sign at `now` (valid-after/valid-before, compared in whole seconds like ssh-keygen). */
function validAt(signer: AllowedSigner, now: Date): boolean {
  const seconds = Math.floor(now.getTime() / 1000);
  if (signer.validAfter !== null && seconds < signer.validAfter.getTime() / 1000) return false;
  if (signer.validBefore !== null && seconds > signer.validBefore.getTime() / 1000) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The first line that lists this key for hail-release and is valid now; a rejection naming why none does. */
function findSigner(signers: readonly AllowedSigner[], publicKey: Uint8Array, now: Date, url: string): AllowedSigner {
  const fingerprint = fingerprintOf(publicKey);
  const lines = signers.filter((s) => sameBytes(s.publicKey, publicKey));
  const hint = "add the key to allowed_signers with namespaces=\"hail-release\", or sign with a key listed there";
  if (lines.length === 0) throw new ReleaseRejected("signer-unknown", url, `it is signed by key ${fingerprint}, which allowed_signers does not list`, hint);
  const forReleases = lines.filter((s) => s.namespaces === null || matchesPatternList(RELEASE_NAMESPACE, s.namespaces));
  if (forReleases.length === 0) {
    const where = lines.map((s) => `${s.source} namespaces="${(s.namespaces ?? []).join(",")}"`).join("; ");
    throw new ReleaseRejected("namespace-wrong", url, `key ${fingerprint} is listed only for other namespaces than ${RELEASE_NAMESPACE} (${where})`, hint);
  }
  const valid = forReleases.find((s) => validAt(s, now));
  if (valid === undefined) {
    const where = forReleases.map((s) => `${s.source}: valid ${s.validAfter?.toISOString() ?? "…"} to ${s.validBefore?.toISOString() ?? "…"}`).join("; ");
    throw new ReleaseRejected("signer-unknown", url, `key ${fingerprint} is not valid at ${now.toISOString()} (${where})`, "sign with a current key, or fix valid-after/valid-before in allowed_signers");
  }
  return valid;
}

/** The manifest and who signed it, or ReleaseRejected with the kind and a one-line reason. */
export function verifyRelease(
  manifestBytes: Uint8Array,
  signatureText: string,
  signers: AllowedSigner[],
  now: Date,
  url: string,
  storeDir: string = DEFAULT_STORE_DIR,
): VerifiedRelease {
  const sig = readSignature(signatureText, url);
  if (sig.namespace !== RELEASE_NAMESPACE) {
    throw new ReleaseRejected("namespace-wrong", url, `it is signed for namespace ${JSON.stringify(serverText(sig.namespace, 60))}, not ${RELEASE_NAMESPACE}`, SIGN_HINT);
  }
  const signer = findSigner(signers, sig.publicKey, now, url);
  let good: boolean;
  try {
    good = parsePublicKey(sig.publicKey).verify(signedData(sig.namespace, sig.hashAlgorithm, manifestBytes), sig.signature);
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
    throw new ReleaseRejected("signature-invalid", url, `the signature by ${signer.source} cannot be checked: ${err.message}`, SIGN_HINT);
  }
  if (!good) {
    throw new ReleaseRejected("signature-invalid", url, `the signature by key ${fingerprintOf(sig.publicKey)} (${signer.source}) does not match the manifest's bytes: changed after signing?`, SIGN_HINT);
  }
  const manifest = parseReleaseManifest(manifestBytes, url, storeDir);
  if (manifest.expires !== undefined && Date.parse(manifest.expires) <= now.getTime()) {
    throw new ReleaseRejected("manifest-expired", url, `the manifest expired at ${manifest.expires}`, "sign a new release with `hail sign`");
  }
  return { manifest, principal: signer.principals.join(","), fingerprint: fingerprintOf(sig.publicKey) };
}
