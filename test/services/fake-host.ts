// A host for running a service profile's bin/activate and bin/deactivate without systemd:
// a fake `systemctl` and `journalctl` first on PATH, and HAIL_SERVICES_ROOT in a temp dir so
// the scripts write their unit dir and state dir there. The fake records every call that
// changes something in `calls` and answers `show` from one state file per unit
// (fake-systemctl.sh, fake-journalctl.sh).
import { chmod, copyFile, lstat, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { NixLab } from "../support/nix-lab.js";



export interface UnitState {
  ActiveState: string;
  SubState?: string;
  NRestarts?: number;
  Result?: string;
  Type?: string;
  MainPID?: number;
  CrashLoop?: 1;
}

export interface FakeHost {
  root: string;
  unitDir: string;
  stateDir: string;
  run(profile: string, script: "activate" | "deactivate"): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** The calls since the last one (the log is emptied): `start x.service`, `daemon-reload` … */
  takeCalls(): Promise<string[]>;
  mainPid(unit: string): Promise<string>;
  setState(unit: string, state: UnitState): Promise<void>;
  onStart(unit: string, state: UnitState | { FAIL: string }): Promise<void>;
  cleanup(): Promise<void>;
}

const render = (state: object): string =>
  Object.entries({ SubState: "", NRestarts: 0, Result: "success", Type: "simple", MainPID: 0, ...state })
    .map(([k, v]) => `${k}=${String(v)}\n`)
    .join("");

export async function createFakeHost(): Promise<FakeHost> {
  const root = await mkdtemp(path.join(os.tmpdir(), "hail-services-"));
  const fake = path.join(root, "fake-systemd");
  const bin = path.join(root, "bin");
  for (const dir of [path.join(fake, "units"), path.join(fake, "on-start"), bin]) await mkdir(dir, { recursive: true });
  for (const tool of ["systemctl", "journalctl"]) {
    await copyFile(new URL(`fake-${tool}.sh`, import.meta.url), path.join(bin, tool));
    await chmod(path.join(bin, tool), 0o755);
  }
  await writeFile(path.join(fake, "calls"), "");
  const env = {
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    FAKE_SYSTEMD: fake,
    HAIL_SERVICES_ROOT: path.join(root, "host"),
    HAIL_SERVICES_SETTLE_SEC: "0",
  };
  const unitFile = (unit: string) => path.join(fake, "units", unit);
  return {
    root,
    unitDir: path.join(root, "host", "run", "systemd", "system"),
    stateDir: path.join(root, "host", "run", "hail-services"),
    async run(profile, script) {
      const r = await execa(path.join(profile, "bin", script), { env, extendEnv: false, reject: false, stdin: "ignore" });
      return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    async takeCalls() {
      const calls = (await readFile(path.join(fake, "calls"), "utf8")).split("\n").filter((l) => l !== "");
      await writeFile(path.join(fake, "calls"), "");
      return calls;
    },
    async mainPid(unit) {
      const text = await readFile(unitFile(unit), "utf8").catch(() => "");
      return /^MainPID=(\d+)$/m.exec(text)?.[1] ?? "0";
    },
    async setState(unit, state) {
      await writeFile(unitFile(unit), render(state));
    },
    async onStart(unit, state) {
      await writeFile(path.join(fake, "on-start", unit), "FAIL" in state ? `FAIL=${state.FAIL}\n` : render(state));
    },
    async cleanup() {
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Builds a profile with the stand-in pkgs (test/support/service-profile.nix). */
export function buildProfile(lab: NixLab, spec: { name: string; version?: string; services: Record<string, unknown>; [k: string]: unknown }): Promise<string> {
  return lab.buildExpression(path.resolve("test/support/service-profile.nix"), { spec: JSON.stringify(spec) });
}

/** nix-instantiate's error for a spec that must not evaluate (the message an operator sees). */
export async function evaluationError(spec: object): Promise<string> {
  const r = await execa("nix-instantiate", [path.resolve("test/support/service-profile.nix"), "--argstr", "spec", JSON.stringify(spec)], {
    reject: false,
    env: { NIX_CONFIG: "sandbox = false\nsubstituters =" },
  });
  if (r.exitCode === 0) throw new Error(`expected an evaluation error, got ${r.stdout}`);
  return r.stderr;
}

/** True when the path exists, even as a dangling symlink. */
export const exists = (p: string): Promise<boolean> => lstat(p).then(() => true, () => false);
