/**
 * OpenSSH public keys and signatures, checked with node:crypto: ssh-ed25519, ecdsa-sha2-nistp*,
 * RSA (rsa-sha2-256/512 only, as SSHSIG allows) and the FIDO hardware keys sk-ssh-ed25519 and
 * sk-ecdsa-sha2-nistp256. No ssh-keygen is needed to verify.
 */
import type { KeyObject } from "node:crypto";

/** node:crypto, loaded when a release is verified, not when hail starts (a plain `hail plan` verifies none). */
const crypto = () => process.getBuiltinModule("node:crypto");
import { WireError, WireReader } from "./ssh-wire.js";

/** The key types hail verifies, as allowed_signers and SSH wire blobs name them. */
export const SUPPORTED_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;

const SK_ED25519 = "sk-ssh-ed25519@openssh.com";
const SK_ECDSA = "sk-ecdsa-sha2-nistp256@openssh.com";

const CURVES = {
  "ecdsa-sha2-nistp256": { curve: "nistp256", jwk: "P-256", bytes: 32, hash: "sha256" },
  "ecdsa-sha2-nistp384": { curve: "nistp384", jwk: "P-384", bytes: 48, hash: "sha384" },
  "ecdsa-sha2-nistp521": { curve: "nistp521", jwk: "P-521", bytes: 66, hash: "sha512" },
} as const;

const RSA_HASHES: Record<string, string> = { "rsa-sha2-256": "sha256", "rsa-sha2-512": "sha512" };

export interface SshPublicKey {
  keyType: string;
  /** true when `signatureBlob` (an SSH signature: string format, string bytes) signs `data` */
  verify(data: Uint8Array, signatureBlob: Uint8Array): boolean;
}

/** `SHA256:…` as ssh-keygen -l prints it: unpadded base64 of the SHA-256 of the wire blob. */
export function fingerprintOf(publicKey: Uint8Array): string {
  return `SHA256:${crypto().createHash("sha256").update(publicKey).digest("base64").replace(/=+$/, "")}`;
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** An mpint as unsigned big-endian bytes without leading zeros. */
function unsigned(mpint: Uint8Array): Uint8Array {
  let at = 0;
  while (at < mpint.length - 1 && mpint[at] === 0) at++;
  return mpint.subarray(at);
}

function leftPad(bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length > length) throw new WireError("an ECDSA signature value is longer than its curve");
  const out = new Uint8Array(length);
  out.set(bytes, length - bytes.length);
  return out;
}

/** The signature blob's format name and bytes, refusing a format other than `expected`. */
function readSignature(blob: Uint8Array, expected: readonly string[]): { format: string; bytes: Uint8Array } {
  const reader = new WireReader(blob);
  const format = reader.text();
  const bytes = reader.string();
  reader.end("the signature");
  if (!expected.includes(format)) throw new WireError(`a ${format} signature does not fit a key that signs ${expected.join(" or ")}`);
  return { format, bytes };
}

function ed25519PublicKey(reader: WireReader): KeyObject {
  const raw = reader.string();
  if (raw.length !== 32) throw new WireError(`an ed25519 key of ${raw.length} bytes, not 32`);
  return crypto().createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: base64url(raw) }, format: "jwk" });
}

function ed25519Key(reader: WireReader): SshPublicKey {
  const key = ed25519PublicKey(reader);
  return {
    keyType: "ssh-ed25519",
    verify: (data, blob) => crypto().verify(null, data, key, readSignature(blob, ["ssh-ed25519"]).bytes),
  };
}

function ecdsaPublicKey(keyType: keyof typeof CURVES, reader: WireReader): KeyObject {
  const { curve, jwk, bytes: size } = CURVES[keyType];
  if (reader.text() !== curve) throw new WireError(`a ${keyType} key names another curve`);
  const point = reader.string();
  if (point.length !== 1 + 2 * size || point[0] !== 4) throw new WireError(`a ${keyType} key is not an uncompressed point`);
  return crypto().createPublicKey({
    key: { kty: "EC", crv: jwk, x: base64url(point.subarray(1, 1 + size)), y: base64url(point.subarray(1 + size)) },
    format: "jwk",
  });
}

/** An ECDSA signature's (mpint r, mpint s) as the fixed-width r‖s node:crypto checks. */
function ecdsaSignature(bytes: Uint8Array, size: number): Buffer {
  const inner = new WireReader(bytes);
  const r = leftPad(unsigned(inner.string()), size);
  const s = leftPad(unsigned(inner.string()), size);
  inner.end("the ECDSA signature");
  return Buffer.concat([r, s]);
}

function ecdsaKey(keyType: keyof typeof CURVES, reader: WireReader): SshPublicKey {
  const key = ecdsaPublicKey(keyType, reader);
  const { bytes: size, hash } = CURVES[keyType];
  return {
    keyType,
    verify: (data, blob) => crypto().verify(hash, data, { key, dsaEncoding: "ieee-p1363" }, ecdsaSignature(readSignature(blob, [keyType]).bytes, size)),
  };
}

/**
 * A FIDO key (PROTOCOL.u2f): the token signs SHA-256(application) ‖ flags ‖ counter ‖
 * SHA-256(data), and the signature blob carries flags and counter after the signature. Like
 * `ssh-keygen -Y verify`, the user-presence flag is not demanded.
 */
function skKey(keyType: typeof SK_ED25519 | typeof SK_ECDSA, reader: WireReader): SshPublicKey {
  const key = keyType === SK_ED25519 ? ed25519PublicKey(reader) : ecdsaPublicKey("ecdsa-sha2-nistp256", reader);
  const application = reader.string();
  return {
    keyType,
    verify: (data, blob) => {
      const outer = new WireReader(blob);
      if (outer.text() !== keyType) throw new WireError(`the signature is not a ${keyType} signature`);
      const signature = outer.string();
      const flagsAndCounter = outer.raw(5);
      outer.end("the signature");
      const sha256 = (bytes: Uint8Array) => crypto().createHash("sha256").update(bytes).digest();
      const signed = Buffer.concat([sha256(application), flagsAndCounter, sha256(data)]);
      if (keyType === SK_ED25519) return crypto().verify(null, signed, key, signature);
      return crypto().verify("sha256", signed, { key, dsaEncoding: "ieee-p1363" }, ecdsaSignature(signature, 32));
    },
  };
}

function rsaKey(reader: WireReader): SshPublicKey {
  const e = unsigned(reader.string());
  const n = unsigned(reader.string());
  const key: KeyObject = crypto().createPublicKey({ key: { kty: "RSA", n: base64url(n), e: base64url(e) }, format: "jwk" });
  return {
    keyType: "ssh-rsa",
    verify: (data, blob) => {
      const { format, bytes } = readSignature(blob, Object.keys(RSA_HASHES));
      return crypto().verify(RSA_HASHES[format] ?? "sha512", data, key, bytes);
    },
  };
}

function isCurve(keyType: string): keyType is keyof typeof CURVES {
  return Object.hasOwn(CURVES, keyType);
}

/** The key in an SSH public key wire blob; WireError for a type hail does not verify or a bad blob. */
export function parsePublicKey(blob: Uint8Array): SshPublicKey {
  const reader = new WireReader(blob);
  const keyType = reader.text();
  let key: SshPublicKey;
  try {
    if (keyType === "ssh-ed25519") key = ed25519Key(reader);
    else if (keyType === "ssh-rsa") key = rsaKey(reader);
    else if (keyType === SK_ED25519 || keyType === SK_ECDSA) key = skKey(keyType, reader);
    else if (isCurve(keyType)) key = ecdsaKey(keyType, reader);
    else throw new WireError(`key type ${JSON.stringify(keyType)} is not one hail verifies (${SUPPORTED_KEY_TYPES.join(", ")})`);
  } catch (err) {
    if (err instanceof WireError) throw err;
    // node:crypto refusing the numbers (a point off the curve, a bad modulus)
    throw new WireError(`the ${keyType} key is not a valid public key`);
  }
  reader.end("the public key");
  return key;
}
