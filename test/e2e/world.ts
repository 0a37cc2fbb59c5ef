// One end-to-end "world": a real Nix lab with a signed binary cache, the Hydra test server
// serving that cache, and a spy on the nix commands hail starts.
import { readlink } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { HydraTestServer, type FakeBuild } from "../support/hydra-server.js";
import { createNixLab, type NixLab } from "../support/nix-lab.js";
import { makeNixSpy, readLines, runHail, type HailRun } from "../support/cli.js";

export interface World {
  lab: NixLab;
  hydra: HydraTestServer;
  env: NodeJS.ProcessEnv;
  activationLog: string;
  gateUrl: string;
  nixCalls(): Promise<string[]>;
  activations(): Promise<string[]>;
  /** hail with --profiles-dir and --state-dir inside the lab */
  hail(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<HailRun>;
  /** common flags: gate target + profile + lab dirs */
  gateArgs(profile: string, constituent?: string): string[];
  labArgs(): string[];
  profileTarget(profile: string): Promise<string | null>;
  generations(profile: string): Promise<number[]>;
  close(): Promise<void>;
}

export async function createWorld(): Promise<World> {
  const lab = await createNixLab();
  const hydra = await HydraTestServer.start({ cacheDir: lab.cacheDir });
  const spy = await makeNixSpy(lab.root);
  const activationLog = path.join(lab.root, "activations.log");
  const base = lab.envFor(hydra.url);
  const env = { ...base, PATH: `${spy.binDir}:${process.env.PATH ?? ""}`, HAIL_TEST_ACTIVATION_LOG: activationLog };
  const gateUrl = `${hydra.url}/job/myproject/main/release_gate`;
  const labArgs = () => ["--profiles-dir", lab.profilesDir, "--state-dir", path.join(lab.root, "state"), "--log-format", "json"];
  return {
    lab,
    hydra,
    env,
    activationLog,
    gateUrl,
    nixCalls: () => spy.calls(),
    activations: () => readLines(activationLog),
    hail: (args, extraEnv = {}) => runHail(args, { ...env, ...extraEnv }),
    gateArgs: (profile, constituent = "myapp") => ["--gate-job", gateUrl, "--constituent", constituent, "--profile", profile, ...labArgs()],
    labArgs,
    async profileTarget(profile) {
      try {
        const link = path.join(lab.profilesDir, profile);
        return await readlink(path.resolve(path.dirname(link), await readlink(link)));
      } catch {
        return null;
      }
    },
    async generations(profile) {
      const r = await execa("nix-env", ["--profile", path.join(lab.profilesDir, profile), "--list-generations"], { env: base, reject: false });
      return r.stdout
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[0])
        .filter((n): n is string => n !== undefined && /^\d+$/.test(n))
        .map(Number);
    },
    async close() {
      await hydra.close();
      await lab.cleanup();
    },
  };
}

/** A green gate `id` in eval `evalId` with constituents myapp (`appPath`) and tests. */
export function greenGate(id: number, evalId: number, appPath: string, overrides: Partial<FakeBuild> = {}): FakeBuild[] {
  const base = { project: "myproject", jobset: "main", finished: true, buildstatus: 0, jobsetevals: [evalId] };
  return [
    { ...base, id, job: "release_gate", outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: [id + 1, id + 2], stoptime: 1_700_000_000 + id },
    { ...base, id: id + 1, job: "myapp", outputs: { out: appPath }, ...overrides },
    { ...base, id: id + 2, job: "tests", outputs: { out: "/nix/store/1bq3x6jz9mphgkfs8wrsbkvsy1iw4m57-tests-1.0" } },
  ];
}

/** Builds apps, publishes them to the lab's cache and removes them locally, so hail must substitute. */
export async function publishedApps(lab: NixLab, ...specs: { name: string; version: string; activate?: string }[]): Promise<string[]> {
  const paths: string[] = [];
  for (const spec of specs) {
    paths.push(await lab.buildApp(spec.name, spec.version, spec.activate === undefined ? {} : { activate: spec.activate }));
  }
  await lab.publish(...paths);
  await lab.deleteLocal(...paths);
  return paths;
}
