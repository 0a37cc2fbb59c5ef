// Release keys and SSHSIG signatures made in-process, for unit tests that need many of them
// (the interop tests use the real ssh-keygen instead). Built from PROTOCOL.sshsig's layout.
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { signedData } from "../../src/release/sshsig.js";
import { concatBytes, wireStrings } from "../../src/release/ssh-wire.js";

export interface TestKey {
  privateKey: KeyObject;
  /** the SSH wire blob */
  publicKey: Uint8Array;
  /** `ssh-ed25519 AAAA…`, as an allowed_signers line takes it */
  line: string;
}

export function ed25519Key(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  const blob = wireStrings("ssh-ed25519", raw);
  return { privateKey, publicKey: blob, line: `ssh-ed25519 ${Buffer.from(blob).toString("base64")}` };
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
  const signature = sign(null, signedData(opts.signedNamespace ?? namespace, hash, message), key.privateKey);
  const blob = concatBytes(
    new TextEncoder().encode("SSHSIG"),
    new Uint8Array([0, 0, 0, 1]),
    wireStrings(key.publicKey, namespace, "", hash, wireStrings("ssh-ed25519", signature)),
  );
  const base64 = Buffer.from(blob).toString("base64").match(/.{1,70}/g) ?? [];
  return ["-----BEGIN SSH SIGNATURE-----", ...base64, "-----END SSH SIGNATURE-----", ""].join("\n");
}

export const APP_PATH = "/nix/store/9z3pq0yc4ck6h9wdy5r5a7cdbfh4bm8v-myapp-1";

/** A valid manifest's bytes, with `extra` fields merged in. */
export function manifestBytes(extra: Record<string, unknown> = {}): Uint8Array {
  const manifest = { "hail-release": 1, job: "myproject/main/release_gate", build: 100, constituents: { myapp: APP_PATH }, ...extra };
  return new TextEncoder().encode(`${JSON.stringify(manifest)}\n`);
}
