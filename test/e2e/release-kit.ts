// Signed releases for the end-to-end tests: real OpenSSH keys and signatures (ssh-keygen), the
// manifest and its .sig served by the Hydra test server, an allowed_signers file in the lab.
import { chmod, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { buildReleaseManifest } from "../../src/release/sign.js";
import type { World } from "./world.js";

export const MANIFEST_PATH = "/releases/myapp.json";
export const GATE_JOB = "myproject/main/release_gate";

export interface ReleaseKey {
  /** the private key file, for ssh-keygen -Y sign -f */
  file: string;
  /** the public key line, `ssh-ed25519 AAAA… comment` */
  publicKey: string;
  /** SHA256:… as ssh-keygen -l prints it */
  fingerprint: string;
}

/** A fresh ed25519 key in the lab, without passphrase. */
export async function makeKey(w: World, name: string): Promise<ReleaseKey> {
  const file = path.join(w.lab.root, `key-${name}`);
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  const publicKey = (await readFile(`${file}.pub`, "utf8")).trim();
  const listed = await execa("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`]);
  const fingerprint = listed.stdout.split(" ")[1] ?? "";
  return { file, publicKey, fingerprint };
}

/** allowed_signers lines, written 0600 (hail reads it under its trusted-file rules); returns its path. */
export async function writeAllowedSigners(w: World, lines: string[], name = "allowed_signers"): Promise<string> {
  const file = path.join(w.lab.root, name);
  await writeFile(file, `${lines.join("\n")}\n`);
  await chmod(file, 0o600);
  return file;
}

/** `PRINCIPAL namespaces="hail-release" KEY`, the line an operator writes. */
export function signerLine(principal: string, key: ReleaseKey, namespaces = "hail-release"): string {
  return `${principal} namespaces="${namespaces}" ${key.publicKey}`;
}

export interface ReleaseSpec {
  build: number;
  constituents: Record<string, string>;
  job?: string;
  expires?: Date | null;
  key: ReleaseKey;
  namespace?: string;
  /** changes the manifest's bytes after signing */
  tamper?: (text: string) => string;
}

/** Writes, signs (ssh-keygen -Y sign) and publishes a release at MANIFEST_PATH and MANIFEST_PATH.sig. */
export async function publishRelease(w: World, spec: ReleaseSpec, at = MANIFEST_PATH): Promise<void> {
  const file = path.join(w.lab.root, `manifest-${spec.build}-${Date.now()}.json`);
  await writeFile(file, buildReleaseManifest(spec.job ?? GATE_JOB, spec.build, spec.constituents, spec.expires ?? null));
  await execa("ssh-keygen", ["-q", "-Y", "sign", "-f", spec.key.file, "-n", spec.namespace ?? "hail-release", file]);
  const text = await readFile(file, "utf8");
  w.hydra.publishFile(at, spec.tamper ? spec.tamper(text) : text);
  w.hydra.publishFile(`${at}.sig`, await readFile(`${file}.sig`));
}

/** --release-manifest (on the test server) and --allowed-signers. */
export function releaseArgs(w: World, signers: string, at = MANIFEST_PATH): string[] {
  return ["--release-manifest", `${w.hydra.url}${at}`, "--allowed-signers", signers];
}

/** The line of a JSON log whose message matches, parsed; undefined when none does. */
export function logLine(stderr: string, pattern: RegExp): Record<string, unknown> | undefined {
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{") || !pattern.test(line)) continue;
    return JSON.parse(line) as Record<string, unknown>;
  }
  return undefined;
}
