// The service template, used as a user uses it, with real Nix flakes (Nix >= 2.4; 2.8 here
// needs `--extra-experimental-features 'nix-command flakes'`), offline:
//   - `nix flake init -t <hail>#service` writes nix/templates/service into an empty directory;
//   - hail's flake offers lib.mkServiceProfile and templates.service (= templates.default);
//   - the written flake's hydraJobs evaluate: the app, its test and the service profile
//     (their derivations are instantiated, nothing is built), and release_gate, a Hydra
//     aggregate whose constituents are exactly those three jobs, by name;
//   - the host side (host/nixos.nix with hail's NixOS module, host/myapp.env for
//     hail@.service) follows that gate and deploys that constituent.
// nixpkgs is test/packaging/nixpkgs-stub (no network), hail a copy of flake.nix, nix/ and the
// package files its NixOS module reads.
import assert from "node:assert/strict";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { unknownFlags } from "../docs/doc-sandbox.js";
import { offlineNix, pointAtLocal, type OfflineNix } from "./offline-flakes.js";
import { REPO, tempDir } from "./unit-file.js";

const TEMPLATE = path.join(REPO, "nix", "templates", "service");
const GATE = "https://hydra.example.org/job/myproject/main/release_gate";

/** a job of hydraJobs as Hydra's evaluator sees it */
interface Job {
  name: string;
  drvPath: string;
  aggregate: boolean;
  constituents: unknown;
}

const JOBS_SUMMARY = "jobs: builtins.mapAttrs (_: j: { inherit (j) name drvPath; aggregate = j._hydraAggregate or false; constituents = j.constituents or null; }) jobs";

/** What is wrong with the template's jobs for hail and Hydra ([] when nothing). */
export function gateProblems(jobs: Record<string, Job>): string[] {
  const gate = jobs.release_gate;
  if (gate === undefined) return ["there is no release_gate job"];
  const problems: string[] = [];
  if (gate.aggregate !== true) problems.push("release_gate is not a Hydra aggregate (_hydraAggregate = true)");
  const constituents = Array.isArray(gate.constituents) ? (gate.constituents as unknown[]) : [];
  const byName = constituents.filter((c): c is string => typeof c === "string" && !c.startsWith("/nix/store/"));
  if (byName.length !== constituents.length) problems.push("release_gate names a constituent other than by its job name");
  const others = Object.keys(jobs).filter((n) => n !== "release_gate");
  const missing = others.filter((n) => !byName.includes(n));
  const unknown = byName.filter((n) => !others.includes(n));
  if (missing.length > 0) problems.push(`release_gate leaves out ${missing.join(", ")}`);
  if (unknown.length > 0) problems.push(`release_gate names ${unknown.join(", ")}, which no job is`);
  for (const [n, job] of Object.entries(jobs)) if (!/^\/nix\/store\/[a-z0-9]{32}-.+\.drv$/.test(job.drvPath)) problems.push(`${n} has no derivation`);
  return problems;
}

describe("the service template: `nix flake init -t hail#service` and its jobs (real Nix flakes, stub nixpkgs)", () => {
  let dir: string;
  let nixOffline: OfflineNix;
  let app: string;
  let jobs: Record<string, Job>;
  const nix = (args: string[], cwd?: string) => nixOffline.run(args, cwd);
  const evalJson = <T>(args: string[]) => nixOffline.evalJson<T>(args);

  /** the written template's flake.nix with `from` replaced, for the duration of `check` */
  async function withTemplateChanged(from: string, to: string, check: () => Promise<void>): Promise<void> {
    const flake = path.join(app, "flake.nix");
    const good = await readFile(flake, "utf8");
    const changed = good.replace(from, to);
    assert.notEqual(changed, good, `${from} is in the template's flake.nix`);
    try {
      await writeFile(flake, changed);
      await check();
    } finally {
      await writeFile(flake, good);
    }
  }

  before(async () => {
    dir = await tempDir("hail-service-template-");
    const hail = path.join(dir, "hail");
    await cp(path.join(REPO, "nix"), path.join(hail, "nix"), { recursive: true });
    // the NixOS module's default package reads them
    for (const f of ["package.json", "package-lock.json"]) await cp(path.join(REPO, f), path.join(hail, f));
    await writeFile(path.join(hail, "flake.nix"), pointAtLocal(await readFile(path.join(REPO, "flake.nix"), "utf8"), "hail's flake"));
    nixOffline = await offlineNix(dir);

    app = path.join(dir, "app");
    await mkdir(app);
    const init = await nix(["flake", "init", "-t", `path:${hail}#service`], app);
    assert.equal(init.code, 0, init.stderr);
    await writeFile(path.join(app, "flake.nix"), pointAtLocal(await readFile(path.join(app, "flake.nix"), "utf8"), "the template", hail));
    jobs = await evalJson([`path:${app}#hydraJobs`, "--apply", JOBS_SUMMARY]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("nix flake init writes every file of nix/templates/service", async () => {
    const files = async (root: string) => (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
    const expected = await files(TEMPLATE);
    assert.ok(expected.includes("flake.nix") && expected.includes("README.md"), expected.join(" "));
    assert.deepEqual(await files(app), expected);
    assert.equal(await readFile(path.join(app, "app.py"), "utf8"), await readFile(path.join(TEMPLATE, "app.py"), "utf8"));
  });

  it("hail's flake offers lib.mkServiceProfile and templates.service, also as templates.default", async () => {
    const hail = `path:${path.join(dir, "hail")}`;
    assert.deepEqual(await evalJson([`${hail}#lib`, "--apply", "l: builtins.typeOf l.mkServiceProfile"]), "lambda");
    const templates = await evalJson<Record<string, { path: string; description: string }>>([`${hail}#templates`, "--apply", "ts: builtins.mapAttrs (_: t: { path = toString t.path; inherit (t) description; }) ts"]);
    assert.deepEqual(Object.keys(templates).sort(), ["default", "service"]);
    assert.match(templates.service?.path ?? "", /^\/nix\/store\/\w+-source\/nix\/templates\/service$/);
    assert.deepEqual(templates.default, templates.service);
    assert.match(templates.service?.description ?? "", /hail/);
  });

  it("its hydraJobs are the app, its test, the service profile and release_gate, which aggregates exactly those three by name", () => {
    assert.deepEqual(Object.keys(jobs).sort(), ["app", "app-test", "myapp", "release_gate"]);
    assert.deepEqual(gateProblems(jobs), []);
    assert.deepEqual([...(jobs.release_gate?.constituents as string[])].sort(), ["app", "app-test", "myapp"]);
    for (const n of ["app", "app-test", "myapp"]) assert.equal(jobs[n]?.aggregate, false, n);
    // the constituent hail deploys is mkServiceProfile's derivation, named by the contract
    assert.equal(jobs.myapp?.name, "myapp-services-1.0.0");
  });

  it("the host side follows that gate and deploys the constituent `myapp` to the profile `myapp`", async () => {
    // NixOS: host/nixos.nix next to hail's module, as its comment says, on the same nixpkgs
    const expr = `let f = builtins.getFlake ${JSON.stringify(`path:${app}`)}; in (f.inputs.nixpkgs.lib.nixosSystem { system = "x86_64-linux"; modules = [ ${JSON.stringify(path.join(app, "host", "configuration.nix"))} f.inputs.hail.nixosModules.default ${JSON.stringify(path.join(app, "host", "nixos.nix"))} ]; }).config.systemd.services`;
    await writeFile(path.join(app, "host", "configuration.nix"), "{ ... }: { networking.hostName = \"web1\"; }\n");
    try {
      // builtins.getFlake takes the flake as locked; the lock goes with the temporary host file
      const lock = await nix(["flake", "lock", `path:${app}`]);
      assert.equal(lock.code, 0, lock.stderr);
      const services = await evalJson<Record<string, string>>(["--impure", "--expr", expr, "--apply", "s: builtins.mapAttrs (_: v: v.serviceConfig.ExecStart) s"]);
      assert.deepEqual(Object.keys(services), ["hail-myapp"]);
      assert.match(services["hail-myapp"] ?? "", /"run" "--profile" "myapp" /);
      assert.ok(services["hail-myapp"]?.includes(`"--gate-job" "${GATE}" "--constituent" "myapp"`), services["hail-myapp"]);
    } finally {
      await rm(path.join(app, "host", "configuration.nix"));
      await rm(path.join(app, "flake.lock"), { force: true });
    }
    // elsewhere: HAIL_ARGS of host/myapp.env, appended to hail@.service's `hail run --profile %i …`
    const line = (await readFile(path.join(app, "host", "myapp.env"), "utf8")).split("\n").find((l) => l.startsWith("HAIL_ARGS="));
    const args = (line ?? "").slice("HAIL_ARGS=".length).split(/\s+/);
    assert.deepEqual(unknownFlags(["run", "--profile", "myapp", ...args]), []);
    assert.deepEqual(args, ["--gate-job", GATE, "--constituent", "myapp"]);
    assert.ok((jobs.release_gate?.constituents as string[]).includes("myapp"));
  });

  it("a gate that leaves a job out, or a profile that does not evaluate, fails (the checks above have teeth)", async () => {
    await withTemplateChanged('"app-test"\n', "\n", async () => {
      const broken = await evalJson<Record<string, Job>>([`path:${app}#hydraJobs`, "--apply", JOBS_SUMMARY]);
      assert.deepEqual(gateProblems(broken), ["release_gate leaves out app-test"]);
    });
    await withTemplateChanged('name = "myapp";', 'name = "MyApp";', async () => {
      const r = await nix(["eval", "--json", "--no-write-lock-file", `path:${app}#hydraJobs`, "--apply", JOBS_SUMMARY]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, /mkServiceProfile: name = "MyApp" is not a valid namespace/);
    });
  });
});
