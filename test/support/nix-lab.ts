// A real-Nix laboratory for end-to-end tests: tiny apps built with nix-build (no nixpkgs),
// a signed file:// binary cache, and profiles, all under one temporary directory.
// Nix itself writes /nix/store (and gcroots/auto links for the lab's profiles); nothing
// else leaves the temp dir, because every Nix call gets HOME and XDG_CACHE_HOME inside it.
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

export interface NixLab {
  root: string;
  profilesDir: string;
  cacheDir: string;
  publicKey: string;
  /** `deactivate`: also write $out/bin/deactivate with this body (as bin/activate's, `out` set) */
  buildApp(name: string, version: string, opts?: { activate?: string; deactivate?: string }): Promise<string>;
  /** nix-build `file` with these --argstr arguments plus the lab's `nonce` (for sibling helpers) */
  buildExpression(file: string, args: Record<string, string>): Promise<string>;
  publish(...paths: string[]): Promise<void>;
  deleteLocal(...paths: string[]): Promise<void>;
  envFor(cacheUrl: string): NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** The default activation: one line on stdout and, when the test asks for it, in a log file. */
const DEFAULT_ACTIVATE = [
  'line="activated $out build=${HAIL_BUILD_ID:-}"',
  'echo "$line"',
  'if [ -n "${HAIL_TEST_ACTIVATION_LOG:-}" ]; then echo "$line" >> "$HAIL_TEST_ACTIVATION_LOG"; fi',
].join("\n");

// The builder only has /bin/sh and absolute /bin tools; `out` is set at the top of
// bin/activate so that an activation body can name its own store path as $out.
// `deactivate` (optional) adds bin/deactivate the same way; without it the derivation is
// exactly what it was before the option existed.
const APP_EXPRESSION = `
{ name, version, activate, nonce, deactivate ? null }:
derivation ({
  name = "\${name}-\${version}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  inherit version activate nonce;
  args = [ "-c" (''
    /bin/mkdir -p "$out/bin"
    printf '%s\\n' "$version" > "$out/version"
    printf '#!/bin/sh\\nout=%s\\n%s\\n' "$out" "$activate" > "$out/bin/activate"
    /bin/chmod +x "$out/bin/activate"
  '' + (if deactivate == null then "" else ''
    printf '#!/bin/sh\\nout=%s\\n%s\\n' "$out" "$deactivate" > "$out/bin/deactivate"
    /bin/chmod +x "$out/bin/deactivate"
  '')) ];
} // (if deactivate == null then { } else { inherit deactivate; }))
`;

let nixAvailability: Promise<boolean> | undefined;

/** True when nix-build, nix-store, nix-env and the nix command all answer (cached per process). */
export function nixAvailable(): Promise<boolean> {
  nixAvailability ??= Promise.all(["nix-build", "nix-store", "nix-env", "nix"].map(async (tool) => {
    const r = await execa(tool, ["--version"], { reject: false });
    return r.exitCode === 0;
  })).then((ok) => ok.every(Boolean), () => false);
  return nixAvailability;
}

export async function createNixLab(): Promise<NixLab> {
  const root = await mkdtemp(path.join(os.tmpdir(), "hail-nix-lab-"));
  const dirs = { profilesDir: path.join(root, "profiles"), cacheDir: path.join(root, "cache"), home: path.join(root, "home") };
  await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
  // Written up front so a cache served before the first publish is still a valid cache.
  await writeFile(path.join(dirs.cacheDir, "nix-cache-info"), "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n");
  const expressionFile = path.join(root, "app.nix");
  await writeFile(expressionFile, APP_EXPRESSION);

  const nonce = randomUUID();
  const secretKeyFile = path.join(root, "signing-key.sec");
  const publicKeyFile = path.join(root, "signing-key.pub");
  const localEnv = nixEnv(root, ["substituters ="]);
  await runNix(localEnv, "nix-store", ["--generate-binary-cache-key", `hail-lab-${nonce.slice(0, 8)}-1`, secretKeyFile, publicKeyFile]);
  const publicKey = (await readFile(publicKeyFile, "utf8")).trim();

  return {
    root,
    profilesDir: dirs.profilesDir,
    cacheDir: dirs.cacheDir,
    publicKey,
    async buildApp(name, version, opts = {}) {
      const args = [expressionFile, "--no-out-link",
        "--argstr", "name", name, "--argstr", "version", version,
        "--argstr", "activate", opts.activate ?? DEFAULT_ACTIVATE, "--argstr", "nonce", nonce,
        ...(opts.deactivate === undefined ? [] : ["--argstr", "deactivate", opts.deactivate])];
      return (await runNix(localEnv, "nix-build", args)).trim();
    },
    async buildExpression(file, args) {
      const argstrs = Object.entries({ ...args, nonce }).flatMap(([k, v]) => ["--argstr", k, v]);
      return (await runNix(localEnv, "nix-build", [file, "--no-out-link", ...argstrs])).trim();
    },
    async publish(...paths) {
      if (paths.length === 0) return;
      await runNix(localEnv, "nix", ["store", "sign", "--key-file", secretKeyFile, ...paths]);
      await runNix(localEnv, "nix", ["copy", "--to", `file://${dirs.cacheDir}`, ...paths]);
    },
    async deleteLocal(...paths) {
      if (paths.length === 0) return;
      await runNix(localEnv, "nix-store", ["--delete", ...paths]);
    },
    envFor(cacheUrl) {
      return nixEnv(root, [`substituters = ${cacheUrl}`, `trusted-public-keys = ${publicKey}`, "require-sigs = true"]);
    },
    async cleanup() {
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * The environment for any Nix call of the lab, or for a process (the hail CLI) that runs Nix.
 * HOME and XDG_CACHE_HOME point into the lab: nix-env creates ~/.nix-defexpr and the
 * narinfo cache lives in ~/.cache/nix, and neither must leak out of the temp dir (nor carry
 * a cached "path not in this cache" answer from one test to the next).
 */
function nixEnv(root: string, extraConfig: string[]): NodeJS.ProcessEnv {
  const config = ["sandbox = false", "experimental-features = nix-command", ...extraConfig].join("\n");
  return {
    ...process.env,
    HOME: path.join(root, "home"),
    XDG_CACHE_HOME: path.join(root, "home", ".cache"),
    XDG_CONFIG_HOME: path.join(root, "home", ".config"),
    NIX_CONFIG: config,
  };
}

/** Runs one Nix command (argument vector, no shell); a failure names the command and Nix's stderr. */
async function runNix(env: NodeJS.ProcessEnv, file: string, args: string[]): Promise<string> {
  const r = await execa(file, args, { env, extendEnv: false, reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) {
    throw new Error(`${file} ${args.join(" ")} failed (exit ${String(r.exitCode)}): ${r.stderr.trim()}`);
  }
  return r.stdout;
}
