// --home-manager end to end: fake Home Manager generations built with real Nix (an `activate`
// and a `home-path` at the top, as a homeConfigurations.USER.activationPackage has), published
// to the signed cache and deployed by the built CLI through the Hydra test server.
import assert from "node:assert/strict";
import { mkdir, readlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { readLines } from "../support/cli.js";
import type { NixLab } from "../support/nix-lab.js";
import { createWorld, greenGate, publishedApps, type World } from "./world.js";

// `activate` says which generation ran and which HOME_MANAGER_BACKUP_EXT it saw, on stdout and
// in $HOME/activations (the test's own HOME), then runs `extra` (a failure, say).
const GENERATION_EXPRESSION = `
{ version, extra, withActivate, nonce }:
derivation {
  name = "home-manager-generation-\${version}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  inherit version extra withActivate nonce;
  args = [ "-c" ''
    /bin/mkdir -p "$out/home-path/bin" "$out/home-files"
    printf '%s\\n' "$version" > "$out/hm-version"
    if [ "$withActivate" = 1 ]; then
      printf '#!/bin/sh\\nout=%s\\nline="home-manager activate $out backup=$HOME_MANAGER_BACKUP_EXT"\\necho "$line"\\necho "$line" >> "$HOME/activations"\\n%s\\n' "$out" "$extra" > "$out/activate"
      /bin/chmod +x "$out/activate"
    fi
  '' ];
}
`;

interface GenerationSpec {
  version: string;
  extra?: string;
  /** false: a closure with home-path but no activate */
  activate?: boolean;
}

async function publishedGenerations(lab: NixLab, ...specs: GenerationSpec[]): Promise<string[]> {
  const file = path.join(lab.root, "home-manager-generation.nix");
  await writeFile(file, GENERATION_EXPRESSION);
  const paths: string[] = [];
  for (const spec of specs) {
    paths.push(await lab.buildExpression(file, { version: spec.version, extra: spec.extra ?? "", withActivate: spec.activate === false ? "0" : "1" }));
  }
  await lab.publish(...paths);
  await lab.deleteLocal(...paths);
  return paths;
}

describe("hail --home-manager with real Nix", () => {
  let w: World;
  let home: string;
  let g1: string, g2: string, failing: string, noActivate: string, g3: string, plainApp: string;
  const env = () => ({ HOME: home, HOME_MANAGER_BACKUP_EXT: "hm-backup" });
  const hm = (profile: string) => [...w.gateArgs(profile), "--home-manager", "--oneshot"];
  const activations = () => readLines(path.join(home, "activations"));
  const offer = (gate: number, storePath: string) => {
    for (const b of greenGate(gate, gate / 10, storePath)) w.hydra.addBuild(b);
  };

  before(async () => {
    w = await createWorld();
    home = path.join(w.lab.root, "user-home");
    await mkdir(home, { recursive: true });
    [g1, g2, failing, noActivate, g3] = (await publishedGenerations(
      w.lab,
      { version: "1" },
      { version: "2" },
      { version: "bad", extra: "echo 'activation failed' >&2\nexit 3" },
      { version: "noact", activate: false },
      { version: "3" },
    )) as [string, string, string, string, string];
    [plainApp] = (await publishedApps(w.lab, { name: "myapp", version: "plain" })) as [string];
  });
  after(() => w.close());

  it("plan --home-manager shows the mode and the generation's activate, in text and json", async () => {
    offer(100, g1);
    const text = await w.hail(["plan", ...w.gateArgs("home-manager"), "--home-manager"], env());
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^mode: +home-manager/m);
    assert.match(text.stdout, new RegExp(`^  ${g1}/activate$`, "m"));
    assert.doesNotMatch(text.stdout, /bin\/activate/);
    const json = await w.hail(["plan", ...w.gateArgs("home-manager"), "--home-manager", "--json"], env());
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { mode: string; commands: string[] };
    assert.equal(report.mode, "home-manager");
    assert.equal(report.commands.at(-1), `${g1}/activate`);
  });

  it("deploys: the profile is switched and the generation's activate runs with HOME_MANAGER_BACKUP_EXT", async () => {
    const r = await w.hail(hm("home-manager"), env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("home-manager"), g1);
    assert.deepEqual(await activations(), [`home-manager activate ${g1} backup=hm-backup`]);
    assert.equal((await w.readState("home-manager"))?.lastDeployed?.storePath, g1);
  });

  it("an update is a new generation of the same profile", async () => {
    offer(200, g2);
    const r = await w.hail(hm("home-manager"), env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("home-manager"), g2);
    assert.deepEqual(await w.generations("home-manager"), [1, 2]);
    assert.equal((await activations()).at(-1), `home-manager activate ${g2} backup=hm-backup`);
  });

  it("a failing activate rolls back, re-activates the previous generation and marks the build known-bad", async () => {
    const before = (await activations()).length;
    offer(300, failing);
    const r = await w.hail(hm("home-manager"), env());
    assert.equal(r.code, 1, r.stderr);
    assert.equal(await w.profileTarget("home-manager"), g2);
    assert.deepEqual((await activations()).slice(before), [
      `home-manager activate ${failing} backup=hm-backup`,
      `home-manager activate ${g2} backup=hm-backup`,
    ]);
    assert.ok((await w.readState("home-manager"))?.failed.some((f) => f.storePath === failing), "the failed generation is known-bad");
    // the next pass skips it: no activation at all
    const again = await w.hail(hm("home-manager"), env());
    assert.equal(again.code, 1, again.stderr);
    assert.equal((await activations()).length, before + 2);
  });

  it("a closure without activate is refused (65), marked known-bad, the profile untouched", async () => {
    const generations = await w.generations("home-manager");
    const before = (await activations()).length;
    offer(400, noActivate);
    const r = await w.hail(hm("home-manager"), env());
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, new RegExp(`${noActivate} is not a Home Manager generation \\(it has no executable activate at its top\\)`));
    assert.equal(await w.profileTarget("home-manager"), g2);
    assert.deepEqual(await w.generations("home-manager"), generations);
    assert.equal((await activations()).length, before);
    assert.ok((await w.readState("home-manager"))?.failed.some((f) => f.storePath === noActivate));
  });

  it("an app (bin/activate, no home-path) is refused too, naming both missing parts", async () => {
    offer(500, plainApp);
    const r = await w.hail(hm("home-manager"), env());
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, /has no executable activate and no home-path at its top/);
    assert.equal(await w.profileTarget("home-manager"), g2);
  });

  it("a held profile is not switched; after release it is", async () => {
    offer(600, g3);
    const hold = await w.hail(["hold", "home-manager", ...w.manageArgs(), "--reason", "travelling"], env());
    assert.equal(hold.code, 0, hold.stderr);
    const before = (await activations()).length;
    const held = await w.hail(hm("home-manager"), env());
    assert.equal(held.code, 0, held.stderr);
    assert.equal(await w.profileTarget("home-manager"), g2);
    assert.equal((await activations()).length, before);
    const release = await w.hail(["release", "home-manager", ...w.manageArgs()], env());
    assert.equal(release.code, 0, release.stderr);
    const r = await w.hail(hm("home-manager"), env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("home-manager"), g3);
    assert.equal((await activations()).at(-1), `home-manager activate ${g3} backup=hm-backup`);
  });

  it("without --profile, the profile is $XDG_STATE_HOME/nix/profiles/home-manager", async () => {
    const xdg = path.join(w.lab.root, "xdg-state");
    const args = ["--gate-job", w.gateUrl, "--constituent", "myapp", "--state-dir", w.stateDir, "--log-format", "json", "--home-manager", "--oneshot"];
    const r = await w.hail(args, { ...env(), XDG_STATE_HOME: xdg });
    assert.equal(r.code, 0, r.stderr);
    const profile = path.join(xdg, "nix", "profiles", "home-manager");
    assert.equal(await readlink(path.resolve(path.dirname(profile), await readlink(profile))), g3);
  });

  it("--home-manager with --nixos is a usage error (64)", async () => {
    const r = await w.hail([...hm("home-manager"), "--nixos"], env());
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /--home-manager and --nixos exclude each other/);
  });
});
