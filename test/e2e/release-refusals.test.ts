// Every way a signed release is refused, with the built CLI, the Hydra test server, real Nix and
// real ssh-keygen: 65 with a one-line reason and nothing deployed; 69 when the manifest cannot
// be fetched; 64 for half a configuration. Each case deploys to its own fresh profile.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { HydraTestServer } from "../support/hydra-server.js";
import { worldAtGreenGate, type World } from "./world.js";
import { makeKey, publishRelease, releaseArgs, signerLine, writeAllowedSigners, type ReleaseKey } from "./release-kit.js";

describe("signed releases: refusals", () => {
  let w: World;
  let app1: string;
  let app2: string;
  let key: ReleaseKey;
  let stranger: ReleaseKey;
  let signers: string;

  before(async () => {
    ({ world: w, apps: [app1, app2] } = await worldAtGreenGate("1", "2"));
    key = await makeKey(w, "release-manager");
    stranger = await makeKey(w, "stranger");
    signers = await writeAllowedSigners(w, [signerLine("alice@example.org", key)]);
  });
  after(() => w.close());

  /** One one-shot to a fresh profile: its exit code, its closing line, and that nothing was deployed. */
  async function refused(profile: string, extra: string[] = releaseArgs(w, signers)): Promise<{ code: number; last: string }> {
    const r = await w.hail([...w.gateArgs(profile), ...extra, "--oneshot"]);
    assert.equal(await w.profileTarget(profile), null, `nothing deployed to ${profile}; stderr:\n${r.stderr}`);
    const last = r.stderr.trimEnd().split("\n").at(-1) ?? "";
    return { code: r.code, last };
  }

  it("a manifest without its .sig: 65", async () => {
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key });
    w.hydra.publishFile("/releases/myapp.json.sig", null);
    const r = await refused("nosig");
    assert.equal(r.code, 65, r.last);
    assert.match(r.last, /^hail: .*no signature at .*myapp\.json\.sig/);
  });

  it("a signature that is not one (garbage in .sig): 65", async () => {
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key });
    w.hydra.publishFile("/releases/myapp.json.sig", "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n");
    const r = await refused("badsig");
    assert.equal(r.code, 65, r.last);
    assert.match(r.last, /the signature .*myapp\.json\.sig cannot be read/);
  });

  it("signed by a key allowed_signers does not list: 65", async () => {
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key: stranger });
    const r = await refused("stranger");
    assert.equal(r.code, 65, r.last);
    assert.match(r.last, new RegExp(`signed by key ${stranger.fingerprint.replace(/[+/]/g, "\\$&")}, which allowed_signers does not list`));
  });

  it("signed for another namespace: 65", async () => {
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key, namespace: "file" });
    const r = await refused("namespace");
    assert.equal(r.code, 65, r.last);
    assert.match(r.last, /namespace "file", not hail-release/);
  });

  it("a key listed only for other namespaces: 65", async () => {
    const fileOnly = await writeAllowedSigners(w, [signerLine("alice@example.org", key, "file")], "allowed_signers_file_only");
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key });
    const r = await refused("namespace-listed", releaseArgs(w, fileOnly));
    assert.equal(r.code, 65, r.last);
    assert.match(r.last, /listed only for other namespaces than hail-release/);
  });

  it("a manifest changed after signing (another path): 65", async () => {
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key, tamper: (text) => text.replace(app1, app2) });
    const r = await refused("tampered");
    assert.equal(r.code, 65, r.last);
    assert.match(r.last, /does not match the manifest's bytes/);
  });

  it("a release for another job: 65", async () => {
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key, job: "otherproject/main/release_gate" });
    const r = await refused("otherjob");
    assert.equal(r.code, 65, r.last);
    assert.match(r.last, /the manifest is for job otherproject\/main\/release_gate, not for myproject\/main\/release_gate/);
  });

  it("an expired release: 65", async () => {
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key, expires: new Date(Date.now() - 3600_000) });
    const r = await refused("expired");
    assert.equal(r.code, 65, r.last);
    assert.match(r.last, /the manifest expired at /);
  });

  it("the release names another path than Hydra resolves: 65 naming both", async () => {
    await publishRelease(w, { build: 100, constituents: { myapp: app2 }, key });
    const r = await refused("disagree");
    assert.equal(r.code, 65, r.last);
    assert.ok(r.last.includes(`the release names ${app2}, Hydra`) && r.last.includes(`resolves ${app1}`), r.last);
  });

  it("a release that does not name --constituent: 65", async () => {
    await publishRelease(w, { build: 100, constituents: { tests: app1 }, key });
    const r = await refused("noconstituent");
    assert.equal(r.code, 65, r.last);
    assert.match(r.last, /names no constituent "myapp"/);
  });

  it("a release of a build Hydra does not have: 65", async () => {
    await publishRelease(w, { build: 4242, constituents: { myapp: app1 }, key });
    const r = await refused("nobuild");
    assert.equal(r.code, 65, r.last);
    assert.match(r.last, /Hydra does not confirm signed gate build 4242/);
  });

  it("no manifest at the URL: 69", async () => {
    const r = await refused("nomanifest", releaseArgs(w, signers, "/releases/none.json"));
    assert.equal(r.code, 69, r.last);
    assert.match(r.last, /no release manifest there \(HTTP 404\)/);
  });

  it("the manifest's server does not answer: 69", async () => {
    const gone = await HydraTestServer.start();
    const url = `${gone.url}/releases/myapp.json`;
    await gone.close();
    const r = await refused("unreachable", ["--release-manifest", url, "--allowed-signers", signers, "--timeout", "5s"]);
    assert.equal(r.code, 69, r.last);
    assert.ok(r.last.includes(gone.url), r.last);
  });

  it("one of the two flags without the other: 64 naming both", async () => {
    for (const half of [["--release-manifest", `${w.hydra.url}/releases/myapp.json`], ["--allowed-signers", signers]]) {
      const r = await refused("half", half);
      assert.equal(r.code, 64, r.last);
      assert.match(r.last, /give --release-manifest URL and --allowed-signers FILE together/);
    }
  });
});

describe("signed releases: a manifest on another web server than Hydra", () => {
  let w: World;
  let app1: string;
  let files: HydraTestServer;

  before(async () => {
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
    files = await HydraTestServer.start();
  });
  after(async () => {
    await files.close();
    await w.close();
  });

  it("is fetched from there and deployed", async () => {
    const key = await makeKey(w, "release-manager");
    const signers = await writeAllowedSigners(w, [signerLine("alice@example.org", key)]);
    // publish on the world's server, then move both files to the other one
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key });
    for (const p of ["/releases/myapp.json", "/releases/myapp.json.sig"]) {
      const res = await fetch(`${w.hydra.url}${p}`);
      files.publishFile(p, Buffer.from(await res.arrayBuffer()));
      w.hydra.publishFile(p, null);
    }
    const r = await w.hail([...w.gateArgs("myapp"), "--release-manifest", `${files.url}/releases/myapp.json`, "--allowed-signers", signers, "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.ok(files.requests.some((q) => q.path === "/releases/myapp.json.sig"));
  });
});
