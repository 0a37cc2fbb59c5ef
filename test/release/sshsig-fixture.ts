// Release keys and SSHSIG signatures made in-process, for unit tests that need many of them
// (the interop tests use the real ssh-keygen instead). Built from PROTOCOL.sshsig's layout, and
// PROTOCOL.u2f's for the FIDO (sk-) keys no test machine has a token for.
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { signedData } from "../../src/release/sshsig.js";
import { concatBytes, wireStrings } from "../../src/release/ssh-wire.js";

export interface TestKey {
  /** the SSH wire blob */
  publicKey: Uint8Array;
  /** `ssh-ed25519 AAAA…`, as an allowed_signers line takes it */
  line: string;
  /** the SSH signature blob over `data` */
  signatureBlob(data: Uint8Array): Uint8Array;
}

function testKey(publicKey: Uint8Array, keyType: string, signatureBlob: (data: Uint8Array) => Uint8Array): TestKey {
  return { publicKey, line: `${keyType} ${Buffer.from(publicKey).toString("base64")}`, signatureBlob };
}

function ed25519Pair(): { privateKey: KeyObject; raw: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, raw: Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url") };
}

export function ed25519Key(): TestKey {
  const { privateKey, raw } = ed25519Pair();
  return testKey(wireStrings("ssh-ed25519", raw), "ssh-ed25519", (data) => wireStrings("ssh-ed25519", sign(null, data, privateKey)));
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest();
/** user presence, and a counter of 7 */
const FLAGS_AND_COUNTER = new Uint8Array([0x01, 0, 0, 0, 7]);

/** What a FIDO token signs for `data`. */
function tokenSigned(application: string, data: Uint8Array): Buffer {
  return Buffer.concat([sha256(new TextEncoder().encode(application)), FLAGS_AND_COUNTER, sha256(data)]);
}

export function skEd25519Key(): TestKey {
  const type = "sk-ssh-ed25519@openssh.com";
  const { privateKey, raw } = ed25519Pair();
  return testKey(wireStrings(type, raw, "ssh:"), type, (data) => concatBytes(wireStrings(type, sign(null, tokenSigned("ssh:", data), privateKey)), FLAGS_AND_COUNTER));
}

export function skEcdsaKey(): TestKey {
  const type = "sk-ecdsa-sha2-nistp256@openssh.com";
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? "", "base64url"), Buffer.from(jwk.y ?? "", "base64url")]);
  return testKey(wireStrings(type, "nistp256", point, "ssh:"), type, (data) => {
    const rs = sign("sha256", tokenSigned("ssh:", data), { key: privateKey, dsaEncoding: "ieee-p1363" });
    // mpints: a leading zero byte keeps a high bit from reading as a sign
    const mpint = (n: Buffer) => Buffer.concat([Buffer.from([0]), n]);
    return concatBytes(wireStrings(type, wireStrings(mpint(rs.subarray(0, 32)), mpint(rs.subarray(32)))), FLAGS_AND_COUNTER);
  });
}

export interface SignOptions {
  namespace?: string;
  hash?: string;
  /** the namespace the signed data names, when a forger claims another in the blob */
  signedNamespace?: string;
}

/** The armored SSHSIG of `message` by `key`, as `ssh-keygen -Y sign` writes it. */
export function sshsig(key: TestKey, message: Uint8Array, opts: SignOptions = {}): string {
  const namespace = opts.namespace ?? "hail-release";
  const hash = opts.hash ?? "sha512";
  const signature = key.signatureBlob(signedData(opts.signedNamespace ?? namespace, hash, message));
  const blob = concatBytes(new TextEncoder().encode("SSHSIG"), new Uint8Array([0, 0, 0, 1]), wireStrings(key.publicKey, namespace, "", hash, signature));
  const base64 = Buffer.from(blob).toString("base64").match(/.{1,70}/g) ?? [];
  return ["-----BEGIN SSH SIGNATURE-----", ...base64, "-----END SSH SIGNATURE-----", ""].join("\n");
}

export const APP_PATH = "/nix/store/9z3pq0yc4ck6h9wdy5r5a7cdbfh4bm8v-myapp-1";

/** A valid manifest's bytes, with `extra` fields merged in. */
export function manifestBytes(extra: Record<string, unknown> = {}): Uint8Array {
  const manifest = { "hail-release": 1, job: "myproject/main/release_gate", build: 100, constituents: { myapp: APP_PATH }, ...extra };
  return new TextEncoder().encode(`${JSON.stringify(manifest)}\n`);
}
