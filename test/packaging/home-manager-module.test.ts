// nix/home-manager-module.nix and the flake's homeManagerModules, evaluated offline with
// nix-instantiate against test/packaging/nix-stub.nix (as nix-files.test.ts does for the NixOS
// module): the user service runs `hail run --home-manager` with flags hail knows, renders to a
// unit systemd-analyze accepts, and is not restarted by the activation it runs.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO, expandSpecifiers, splitCommandLine, tempDir, verifyUnits } from "./unit-file.js";

const STUB = path.join(REPO, "test", "packaging", "nix-stub.nix");
const REPO_ARG = ["--arg", "repo", `/. + ${JSON.stringify(REPO)}`];
const GATE = "https://hydra.example.org/job/myproject/main/release_gate";

type Section = Record<string, string | number | boolean | string[]>;
interface UserService {
  Unit: Section;
  Service: Section;
  Install: { WantedBy: string[] };
}
interface HomeModule {
  optionNames: string[];
  userServices: Record<string, UserService>;
  assertions: { assertion: boolean; message: string }[];
  defaultPackage: { pname: string; nodejs: string };
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: REPO, env: { ...process.env, NIX_ABORT_ON_WARN: "1" }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(new Error(`${file} could not run: it is required for these tests`));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** The unit file Home Manager writes from systemd.user.services.NAME: a list is one line per element. */
function renderUserUnit(svc: UserService): string {
  const lines: string[] = [];
  for (const [name, section] of Object.entries(svc) as [string, Section][]) {
    lines.push(`[${name}]`);
    for (const [key, value] of Object.entries(section)) {
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key}=${v === true ? "true" : v === false ? "false" : String(v)}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

describe("nix/home-manager-module.nix (evaluated with the stub)", () => {
  let dir: string;
  let fakePackage: string;
  let hailFlags: Set<string>;
  let counter = 0;

  before(async () => {
    dir = await tempDir("hail-hm-module-");
    fakePackage = path.join(dir, "hail-pkg");
    await mkdir(path.join(fakePackage, "bin"), { recursive: true });
    await writeFile(path.join(fakePackage, "bin", "hail-daemon"), "#!/bin/sh\nexit 0\n");
    await chmod(path.join(fakePackage, "bin", "hail-daemon"), 0o755);
    // the flags `hail run` takes today, from the source
    const help = await run(process.execPath, ["--import", "tsx", path.join(REPO, "src/cli/main.ts"), "run", "--help"]);
    assert.equal(help.code, 0, help.stderr);
    hailFlags = new Set(help.stdout.match(/--[a-z][a-z-]*/g) ?? []);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function evalHome(settings: unknown): Promise<HomeModule> {
    const file = path.join(dir, `settings-${counter++}.json`);
    await writeFile(file, JSON.stringify(settings));
    const r = await run("nix-instantiate", ["--store", "dummy://", "--eval", "--strict", "--json", ...REPO_ARG, "--arg", "homeSettings", `builtins.fromJSON (builtins.readFile ${file})`, "-A", "homeManagerModule", STUB]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as HomeModule;
  }

  const argvOf = (svc: UserService) => splitCommandLine(expandSpecifiers(String(svc.Service.ExecStart), { i: "", S: "", C: "" }), {});
  const valueOf = (argv: string[], flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const home = { enable: true, gateJob: GATE, constituent: "myapp" };

  it("declares the NixOS module's options that make sense for one user, and does nothing without enable", async () => {
    const m = await evalHome({});
    for (const name of ["enable", "package", "gateJob", "constituent", "jobUri", "profile", "pollPeriod", "netrcFile", "hydraUser", "hydraPasswordFile", "metricsFile", "metricsListen", "stateDir", "backupFileExtension", "extraArgs"]) {
      assert.ok(m.optionNames.includes(name), name);
    }
    assert.deepEqual(m.userServices, {});
    assert.equal(m.defaultPackage.pname, "hail");
    assert.match(m.defaultPackage.nodejs, /^nodejs-24\./);
  });

  it("runs `hail run --home-manager` as the user service hail.service, with the profile and state dir left to hail's user defaults", async () => {
    const m = await evalHome({ ...home, package: fakePackage });
    assert.deepEqual(Object.keys(m.userServices), ["hail"]);
    const svc = m.userServices.hail as UserService;
    const argv = argvOf(svc);
    assert.deepEqual(argv.slice(0, 3), [`${fakePackage}/bin/hail-daemon`, "run", "--home-manager"]);
    assert.equal(valueOf(argv, "--gate-job"), GATE);
    assert.equal(valueOf(argv, "--constituent"), "myapp");
    assert.ok(!argv.includes("--profile") && !argv.includes("--state-dir"), argv.join(" "));
    assert.ok(!argv.includes("--nixos"));
    for (const flag of argv.filter((a) => a.startsWith("--"))) assert.ok(hailFlags.has(flag), `hail run takes ${flag}`);
    assert.deepEqual(svc.Install.WantedBy, ["default.target"]);
    assert.ok((svc.Service.Environment as string[]).some((e) => /^"PATH=\/nix\/store\/[^"]*-nix-[^"]*\/bin:/.test(e)), "nix-store and nix-env are on PATH");
    assert.ok(!(svc.Service.Environment as string[]).some((e) => e.includes("HOME_MANAGER_BACKUP_EXT")), "no backup extension unless set");
  });

  it("is kept running, not restarted, by the Home Manager activation it runs itself", async () => {
    const svc = (await evalHome({ ...home, package: fakePackage })).userServices.hail as UserService;
    assert.equal(svc.Unit["X-SwitchMethod"], "keep-old");
    assert.equal(svc.Unit["X-RestartIfChanged"], false);
  });

  it("passes every optional flag under the name hail knows, and HOME_MANAGER_BACKUP_EXT to the activation", async () => {
    const m = await evalHome({
      ...home,
      package: fakePackage,
      profile: "/home/alice/.local/state/nix/profiles/home-manager",
      stateDir: "/home/alice/.local/state/hail",
      netrcFile: "/home/alice/.config/hail/netrc",
      metricsListen: "127.0.0.1:9466",
      metricsFile: "/home/alice/.local/state/hail/metrics.prom",
      pollPeriod: "2m",
      rollback: false,
      allowDowngrade: true,
      confirmTimeout: "5m",
      hydraUser: "alice",
      hydraPasswordFile: "/home/alice/.config/hail/password",
      backupFileExtension: "hm backup",
      extraArgs: ["--timeout", "1m"],
    });
    const svc = m.userServices.hail as UserService;
    const argv = argvOf(svc);
    assert.equal(valueOf(argv, "--profile"), "/home/alice/.local/state/nix/profiles/home-manager");
    assert.equal(valueOf(argv, "--state-dir"), "/home/alice/.local/state/hail");
    assert.equal(valueOf(argv, "--netrc-file"), "/home/alice/.config/hail/netrc");
    assert.equal(valueOf(argv, "--metrics-listen"), "127.0.0.1:9466");
    assert.equal(valueOf(argv, "--poll-period"), "2m");
    assert.equal(valueOf(argv, "--confirm-timeout"), "5m");
    assert.equal(valueOf(argv, "--hydra-user"), "alice");
    assert.ok(argv.includes("--no-rollback") && argv.includes("--allow-downgrade"));
    assert.deepEqual(argv.slice(-2), ["--timeout", "1m"]);
    for (const flag of argv.filter((a) => a.startsWith("--"))) assert.ok(hailFlags.has(flag), `hail run takes ${flag}`);
    assert.ok((svc.Service.Environment as string[]).includes('"HOME_MANAGER_BACKUP_EXT=hm backup"'), JSON.stringify(svc.Service.Environment));
  });

  it("asserts a well-formed target", async () => {
    const failing = async (settings: Record<string, unknown>) =>
      (await evalHome({ enable: true, package: fakePackage, ...settings })).assertions.filter((a) => !a.assertion).map((a) => a.message).join("\n");
    assert.equal(await failing({ gateJob: GATE, constituent: "myapp" }), "");
    assert.match(await failing({}), /exactly one of gateJob and jobUri/);
    assert.match(await failing({ gateJob: GATE }), /constituent goes with gateJob/);
    assert.match(await failing({ gateJob: GATE, constituent: "myapp", hydraUser: "alice" }), /hydraUser and hydraPasswordFile/);
  });

  it("rejects an option the module does not declare", async () => {
    const file = path.join(dir, "typo.json");
    await writeFile(file, JSON.stringify({ enable: true, gatejob: GATE }));
    const r = await run("nix-instantiate", ["--store", "dummy://", "--eval", "--strict", "--json", ...REPO_ARG, "--arg", "homeSettings", `builtins.fromJSON (builtins.readFile ${file})`, "-A", "homeManagerModule.userServices", STUB]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /services\.hail\.gatejob' does not exist/);
  });

  it("renders to a unit that systemd-analyze verify accepts", async () => {
    const m = await evalHome({ ...home, package: fakePackage, backupFileExtension: "hm backup" });
    const unitDir = path.join(dir, "units");
    await mkdir(unitDir, { recursive: true });
    await writeFile(path.join(unitDir, "hail.service"), renderUserUnit(m.userServices.hail as UserService));
    const r = await verifyUnits(unitDir, ["hail.service"]);
    assert.deepEqual(r.complaints, [], r.stderr);
    assert.equal(r.code, 0, r.stderr);
  });
});

describe("flake.nix's homeManagerModules (evaluated with the stub of nixpkgs 26.05)", () => {
  it("default (and its alias hail) imports nix/home-manager-module.nix with the flake's package as a default", async () => {
    const r = await run("nix-instantiate", ["--store", "dummy://", "--eval", "--strict", "--json", ...REPO_ARG, "-A", "flake", STUB]);
    assert.equal(r.code, 0, r.stderr);
    const f = JSON.parse(r.stdout) as {
      packages: Record<string, Record<string, { storePath: string }>>;
      homeManagerModuleImports: string[];
      homeManagerModulePackage: { _type: string; content: { storePath: string } };
      homeManagerModuleAliasImports: string[];
    };
    assert.deepEqual(f.homeManagerModuleImports.map((p) => path.resolve(p)), [path.join(REPO, "nix", "home-manager-module.nix")]);
    assert.equal(f.homeManagerModulePackage._type, "override", "mkDefault: a user may set another package");
    assert.equal(f.homeManagerModulePackage.content.storePath, f.packages["x86_64-linux"]?.hail?.storePath);
    assert.deepEqual(f.homeManagerModuleAliasImports, f.homeManagerModuleImports);
  });
});
