// The install paths of a Nix user, evaluated with real Nix flakes (Nix >= 2.4; 2.8 here needs
// `--extra-experimental-features 'nix-command flakes'`), offline:
//   - nix/examples/host/flake.nix, a host's flake that takes hail's flake as an input with
//     `inputs.hail.inputs.nixpkgs.follows = "nixpkgs"` and enables services.hail through
//     nixosModules.default: its nixosConfiguration evaluates to hail's units;
//   - `nix run` and `nix profile install` of hail's flake: the app and the default package.
// Both nixpkgs and hail are `path:` inputs here: nixpkgs is test/packaging/nixpkgs-stub (no
// network, and full nixpkgs is far too big), hail a copy of the files its flake evaluates.
// Nothing is built; Nix copies the two small sources into /nix/store.
import assert from "node:assert/strict";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { offlineNix, pointAtLocal, STUB_NIXPKGS, type OfflineNix } from "./offline-flakes.js";
import { REPO, tempDir } from "./unit-file.js";

const EXAMPLE = path.join(REPO, "nix", "examples", "host", "flake.nix");
/** what hail's flake reads when it is evaluated (not built) */
const FLAKE_FILES = ["flake.nix", "package.json", "package-lock.json", "nix/package.nix", "nix/npm-lock.nix", "nix/module.nix", "nix/service-args.nix", "nix/service-options.nix", "nix/tests/nixos-deploy.nix"];

describe("a host's flake and `nix run` / `nix profile install` (real Nix flakes, stub nixpkgs)", () => {
  let dir: string;
  let nixOffline: OfflineNix;
  const nix = (args: string[]) => nixOffline.run(args);
  const evalJson = <T>(args: string[]) => nixOffline.evalJson<T>(args);

  before(async () => {
    dir = await tempDir("hail-host-flake-");
    for (const f of FLAKE_FILES) {
      await mkdir(path.dirname(path.join(dir, "hail", f)), { recursive: true });
      await writeFile(path.join(dir, "hail", f), await readFile(path.join(REPO, f)));
    }
    const host = pointAtLocal(await readFile(EXAMPLE, "utf8"), "the example", path.join(dir, "hail"));
    await mkdir(path.join(dir, "host"));
    await writeFile(path.join(dir, "host", "flake.nix"), host);
    await writeFile(path.join(dir, "host", "configuration.nix"), '{ ... }: { networking.hostName = "web1"; }\n');
    nixOffline = await offlineNix(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("the example host's nixosConfiguration runs hail-daemon from hail's flake, built with the host's nixpkgs (follows)", async () => {
    const host = `path:${path.join(dir, "host")}#nixosConfigurations.web1`;
    const services = await evalJson<Record<string, string>>([`${host}.config.systemd.services`, "--apply", "s: builtins.mapAttrs (_: v: v.serviceConfig.ExecStart) s"]);
    assert.deepEqual(Object.keys(services).sort(), ["hail-myapp", "hail-system"]);
    assert.match(services["hail-myapp"] ?? "", /^\/nix\/store\/\w+-hail-[\d.]+\/bin\/hail-daemon "run" "--profile" "myapp" /);
    assert.match(services["hail-myapp"] ?? "", /"--gate-job" "https:\/\/hydra\.example\.org\/job\/proj\/main\/release_gate" "--constituent" "myapp"/);
    assert.match(services["hail-system"] ?? "", /"--profile" "system" .*"--nixos" "--nixos-action" "switch" "--reboot-window" "02:00-04:00"/);
    const failed = await evalJson<string[]>([`${host}.config.assertions`, "--apply", "as: map (a: a.message) (builtins.filter (a: !a.assertion) as)"]);
    assert.deepEqual(failed, []);
    // hail's package comes from nixosModules.default, evaluated with the host's nixpkgs
    const nodejs = await evalJson<string>([`${host}.config.services.hail.package.nodejs.name`]);
    assert.match(nodejs, /^nodejs-24\./);
  });

  it("a typo in the host's services.hail fails its evaluation with the option's name", async () => {
    const flake = path.join(dir, "host", "flake.nix");
    const good = await readFile(flake, "utf8");
    try {
      await writeFile(flake, good.replace("constituent = \"myapp\";", "constituant = \"myapp\";"));
      const r = await nix(["eval", "--json", "--no-write-lock-file", `path:${path.join(dir, "host")}#nixosConfigurations.web1.config.systemd.services`, "--apply", "s: builtins.mapAttrs (_: v: v.serviceConfig.ExecStart) s"]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /services\.hail\.instances\.myapp\.constituant' does not exist/);
    } finally {
      await writeFile(flake, good);
    }
  });

  it("`nix run` and `nix profile install` find hail's app and default package", async () => {
    const hail = `path:${path.join(dir, "hail")}`;
    const override = ["--override-input", "nixpkgs", STUB_NIXPKGS];
    const app = await evalJson<{ type: string; program: string }>([...override, `${hail}#apps.x86_64-linux.default`]);
    assert.equal(app.type, "app");
    assert.match(app.program, /^\/nix\/store\/\w+-hail-[\d.]+\/bin\/hail$/);
    const name = await evalJson<string>([...override, `${hail}#packages.x86_64-linux.default.name`]);
    const version = (JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;
    assert.equal(name, `hail-${version}`);
    assert.ok(app.program.includes(`-hail-${version}/`), app.program);
  });
});
