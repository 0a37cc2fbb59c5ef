import assert from "node:assert/strict";
import { readFile, readlink } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { HydraTestServer } from "./hydra-server.js";
import { createNixLab, type NixLab, nixAvailable } from "./nix-lab.js";

// No skipping when Nix is missing: .ci/run installs it, and a missing Nix must fail loudly.
it("Nix is installed (nix-build, nix-store, nix-env, nix)", async () => {
  assert.equal(await nixAvailable(), true, "install Nix: apt-get install -y nix-bin");
});

describe("NixLab with real Nix", () => {
  let lab: NixLab;
  let other: NixLab;
  let server: HydraTestServer;
  before(async () => {
    [lab, other] = await Promise.all([createNixLab(), createNixLab()]);
    server = await HydraTestServer.start({ cacheDir: lab.cacheDir });
  });
  after(async () => {
    await server?.close();
    await Promise.all([lab?.cleanup(), other?.cleanup()]);
  });

  it("builds an app whose activate script logs its store path and build id", async () => {
    const app = await lab.buildApp("myapp", "1.0");
    assert.match(app, /^\/nix\/store\/[0-9a-z]{32}-myapp-1\.0$/);
    assert.equal(await lab.buildApp("myapp", "1.0"), app, "same lab, same inputs: same path");
    assert.notEqual(await other.buildApp("myapp", "1.0"), app, "another lab gets fresh paths");
    const log = path.join(lab.root, "activation.log");
    const run = await execa(path.join(app, "bin", "activate"), { env: { HAIL_BUILD_ID: "101", HAIL_TEST_ACTIVATION_LOG: log } });
    assert.equal(run.stdout, `activated ${app} build=101`);
    assert.equal(await readFile(log, "utf8"), `activated ${app} build=101\n`);
  });

  it("replaces the activation body on request", async () => {
    const failing = await lab.buildApp("broken", "1.0", { activate: "echo \"going down $out\"; exit 3" });
    const run = await execa(path.join(failing, "bin", "activate"), { reject: false });
    assert.equal(run.exitCode, 3);
    assert.equal(run.stdout, `going down ${failing}`);
  });

  it("substitutes a published, locally deleted path from the served cache, then profiles it", async () => {
    const app = await lab.buildApp("myapp", "2.0");
    await lab.publish(app);
    await lab.deleteLocal(app);
    assert.equal((await execa("nix-store", ["--check-validity", app], { env: lab.envFor(server.url), reject: false })).exitCode, 1);
    server.resetRequests();

    const realise = await execa("nix-store", ["--realise", app], { env: lab.envFor(server.url) });
    assert.equal(realise.stdout.trim(), app);
    assert.match(realise.stderr, new RegExp(`copying path '${app}' from '${server.url}'`));
    assert.ok(server.requests.some((r) => r.path.startsWith("/nar/")), "the NAR came from the test server");

    const profile = path.join(lab.profilesDir, "x");
    await execa("nix-env", ["--profile", profile, "--set", app], { env: lab.envFor(server.url) });
    assert.equal(await readlink(profile), "x-1-link");
    assert.equal(await readlink(`${profile}-1-link`), app);
    const generations = await execa("nix-env", ["--profile", profile, "--list-generations"], { env: lab.envFor(server.url) });
    assert.match(generations.stdout, /^\s*1\s.*\(current\)$/m);
  });

  it("refuses a cache signed with a key it does not trust", async () => {
    const app = await lab.buildApp("myapp", "3.0");
    await lab.publish(app);
    await lab.deleteLocal(app);
    const realise = await execa("nix-store", ["--realise", app], { env: other.envFor(server.url), reject: false });
    assert.notEqual(realise.exitCode, 0);
    assert.match(realise.stderr, /is not signed by any of the keys in 'trusted-public-keys'/);
    assert.equal((await execa("nix-store", ["--check-validity", app], { env: lab.envFor(""), reject: false })).exitCode, 1);
  });

  it("refuses an unsigned path even with the right key", async () => {
    const app = await lab.buildApp("unsigned", "1.0");
    await execa("nix", ["copy", "--to", `file://${lab.cacheDir}`, app], { env: lab.envFor("") });
    await lab.deleteLocal(app);
    const realise = await execa("nix-store", ["--realise", app], { env: lab.envFor(server.url), reject: false });
    assert.notEqual(realise.exitCode, 0);
    assert.match(realise.stderr, /is not signed by any of the keys in 'trusted-public-keys'/);
    assert.equal((await execa("nix-store", ["--check-validity", app], { env: lab.envFor(""), reject: false })).exitCode, 1);
  });
});
