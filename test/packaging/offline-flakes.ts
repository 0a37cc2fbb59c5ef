// Real Nix flakes for the packaging tests, offline: Nix 2.8 needs the experimental features
// spelled out, the global flake registry would be fetched from the network, substituters
// too, and a warning fails the evaluation as in the stub's other tests (NIX_ABORT_ON_WARN).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { REPO } from "./unit-file.js";

/** test/packaging/nixpkgs-stub as a flake URL, for a flake's `nixpkgs` input */
export const STUB_NIXPKGS = `path:${path.join(REPO, "test", "packaging", "nixpkgs-stub")}`;
/** the nixpkgs URL of hail's flake, its example host and its template, which the tests replace */
export const NIXPKGS_URL = '"github:NixOS/nixpkgs/nixos-26.05"';
/** the hail URL of the example host and the template, which the tests replace */
export const HAIL_URL = '"git+file:///srv/src/hail"';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface OfflineNix {
  /** `nix ARGS` in `cwd` (the test's directory unless given) */
  run(args: string[], cwd?: string): Promise<Run>;
  /** `nix eval --json --no-write-lock-file ARGS`, which must succeed */
  evalJson<T>(args: string[]): Promise<T>;
}

/** Nix with flakes and nothing from the network; writes its registry file into `dir`. */
export async function offlineNix(dir: string): Promise<OfflineNix> {
  await writeFile(path.join(dir, "registry.json"), '{ "flakes": [], "version": 2 }\n');
  const env = { ...process.env, NIX_ABORT_ON_WARN: "1", NIX_CONFIG: ["sandbox = false", "substituters =", `flake-registry = ${path.join(dir, "registry.json")}`].join("\n") };
  const run = (args: string[], cwd = dir): Promise<Run> =>
    new Promise((resolve, reject) => {
      const argv = ["--extra-experimental-features", "nix-command flakes", ...args];
      execFile("nix", argv, { cwd, env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") {
          reject(new Error(`nix could not run (${String(err.code ?? err.message)}): it is required for these tests`));
          return;
        }
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      });
    });
  return {
    run,
    async evalJson<T>(args: string[]): Promise<T> {
      const r = await run(["eval", "--json", "--no-write-lock-file", ...args]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as T;
    },
  };
}

/** A flake's text with its nixpkgs (and hail, when given) pointed at local stand-ins; each URL must be there once. */
export function pointAtLocal(flake: string, what: string, hail?: string): string {
  const local = flake.replace(NIXPKGS_URL, JSON.stringify(STUB_NIXPKGS));
  assert.equal(local.split(STUB_NIXPKGS).length, 2, `${what}'s nixpkgs URL is the one this test replaces`);
  if (hail === undefined) return local;
  const withHail = local.replace(HAIL_URL, JSON.stringify(`path:${hail}`));
  assert.equal(withHail.split(`"path:${hail}"`).length, 2, `${what}'s hail URL is the one this test replaces`);
  return withHail;
}
