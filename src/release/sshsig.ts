/**
 * SSHSIG (OpenSSH's PROTOCOL.sshsig): the armored signature `ssh-keygen -Y sign` writes, its
 * blob, and the bytes it signs. Pure; the caller decides which key may sign what.
 */
import { concatBytes, WireError, WireReader, wireStrings } from "./ssh-wire.js";

const BEGIN = "-----BEGIN SSH SIGNATURE-----";
const END = "-----END SSH SIGNATURE-----";
const PREAMBLE = new TextEncoder().encode("SSHSIG");
const VERSION = 1;
export const SSHSIG_HASHES = ["sha256", "sha512"] as const;

export interface SshSignature {
  /** the signer's public key, as an SSH wire blob */
  publicKey: Uint8Array;
  namespace: string;
  hashAlgorithm: (typeof SSHSIG_HASHES)[number];
  /** the SSH signature blob (string format, string bytes) */
  signature: Uint8Array;
}

/** The blob inside the armor; WireError when the text is not one armored SSHSIG. */
export function dearmor(text: string): Uint8Array {
  const lines = text.trim().split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== BEGIN || lines.at(-1) !== END) throw new WireError(`not an armored SSH signature (expected "${BEGIN}" … "${END}")`);
  const body = lines.slice(1, -1).join("");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) throw new WireError("the armored signature is not base64");
  return new Uint8Array(Buffer.from(body, "base64"));
}

/** The fields of an SSHSIG blob, refusing another version, hash or trailing bytes. */
export function parseSshSignature(blob: Uint8Array): SshSignature {
  const reader = new WireReader(blob);
  if (!PREAMBLE.every((b, i) => reader.byte() === b)) throw new WireError('the blob does not start with "SSHSIG"');
  const version = reader.uint32();
  if (version !== VERSION) throw new WireError(`SSHSIG version ${version}, hail reads version ${VERSION}`);
  const publicKey = reader.string();
  const namespace = reader.text();
  reader.string(); // reserved
  const hashAlgorithm = reader.text();
  const signature = reader.string();
  reader.end("the SSHSIG blob");
  const hash = SSHSIG_HASHES.find((h) => h === hashAlgorithm);
  if (hash === undefined) throw new WireError(`hash algorithm ${JSON.stringify(hashAlgorithm)}, not one of ${SSHSIG_HASHES.join(", ")}`);
  return { publicKey, namespace, hashAlgorithm: hash, signature };
}

/** What the key signed: the preamble, namespace, reserved, hash name and the message's hash. */
export function signedData(namespace: string, hashAlgorithm: string, message: Uint8Array): Uint8Array {
  const digest = new Uint8Array(process.getBuiltinModule("node:crypto").createHash(hashAlgorithm).update(message).digest());
  return concatBytes(PREAMBLE, wireStrings(namespace, new Uint8Array(0), hashAlgorithm, digest));
}
