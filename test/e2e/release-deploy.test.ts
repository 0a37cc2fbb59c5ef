// Signed releases with the built CLI, the Hydra test server, real Nix and real ssh-keygen: the
// signed build is deployed and who signed it is said; a newer unsigned gate build waits; an
// older signed release (a replay) is refused unless --allow-downgrade.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { greenGate, worldWithApps, type World } from "./world.js";
import { logLine, makeKey, publishRelease, releaseArgs, signerLine, writeAllowedSigners, type ReleaseKey } from "./release-kit.js";

describe("signed releases: deploy what the key signed and Hydra confirms", () => {
  let w: World;
  let app1: string;
  let app2: string;
  let key: ReleaseKey;
  let signers: string;
  let metrics: string;
  const expires = new Date(Date.now() + 30 * 86_400_000);

  before(async () => {
    ({ world: w, apps: [app1, app2] } = await worldWithApps("1", "2"));
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    key = await makeKey(w, "release-manager");
    signers = await writeAllowedSigners(w, [signerLine("alice@example.org", key)]);
    metrics = path.join(w.lab.root, "release.prom");
  });
  after(() => w.close());

  const args = () => [...w.gateArgs("myapp"), ...releaseArgs(w, signers)];
  const oneshot = (...extra: string[]) => w.hail([...args(), "--oneshot", "--metrics-file", metrics, ...extra]);

  it("deploys the signed gate build, logs the signer, and plan --json shows the release", async () => {
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key, expires });
    const plan = await w.hail(["plan", ...args(), "--json"]);
    assert.equal(plan.code, 0, plan.stderr);
    const report = JSON.parse(plan.stdout) as { action: string; release: Record<string, unknown> };
    assert.equal(report.action, "deploy");
    assert.deepEqual(
      { principal: report.release["principal"], fingerprint: report.release["fingerprint"], build: report.release["build"], expires: report.release["expires"] },
      { principal: "alice@example.org", fingerprint: key.fingerprint, build: 100, expires: expires.toISOString().replace(/\.\d{3}Z$/, "Z") },
    );
    const r = await oneshot();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
    const verified = logLine(r.stderr, /release verified/);
    assert.equal(verified?.["principal"], "alice@example.org", r.stderr);
    const text = await readFile(metrics, "utf8");
    assert.match(text, new RegExp(`^hail_release_signed_build\\{profile="myapp",principal="alice@example.org",fingerprint="${key.fingerprint.replace(/[+/]/g, "\\$&")}"\\} 100$`, "m"));
    assert.match(text, new RegExp(`^hail_release_expiry_timestamp_seconds\\{profile="myapp"\\} ${Math.floor(expires.getTime() / 1000)}$`, "m"));
  });

  it("a newer gate build nobody signed: the host keeps its build, exit 0, plan and status say it waits", async () => {
    for (const b of greenGate(103, 11, app2)) w.hydra.addBuild(b);
    const r = await oneshot();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app1, "the unsigned build is not deployed");
    assert.match(r.stdout, /waiting for a signed release: gate build 103 is newer than signed build 100/);
    assert.deepEqual(await w.generations("myapp"), [1]);
    const plan = await w.hail(["plan", ...args(), "--detailed-exitcode"]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /^action: +unsigned \(keeping the signed build\): waiting for a signed release: gate build 103 is newer than signed build 100$/m);
    assert.match(plan.stdout, /^release: +signed gate build 100 by alice@example\.org/m);
    const status = await w.hail(["status", "myapp", ...w.manageArgs()]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^waiting: +since \S+: waiting for a signed release: gate build 103 is newer than signed build 100$/m);
    assert.match(status.stdout, /^release: +signed gate build 100 by alice@example\.org/m);
    assert.match(await readFile(metrics, "utf8"), /^hail_release_waiting_since_timestamp_seconds\{profile="myapp"\} [1-9]/m);
  });

  it("once 103 is signed it is deployed, and the wait ends", async () => {
    await publishRelease(w, { build: 103, constituents: { myapp: app2 }, key });
    const r = await oneshot();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app2);
    assert.match(await readFile(metrics, "utf8"), /^hail_release_waiting_since_timestamp_seconds\{profile="myapp"\} 0$/m);
  });

  it("an older signed release served again (a replay) is refused with 65 and nothing is activated", async () => {
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key, expires });
    const before = await w.activations();
    const r = await oneshot();
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, /signs gate build 100, older than gate build 103 that hail last deployed/);
    assert.equal(await w.profileTarget("myapp"), app2);
    assert.deepEqual(await w.activations(), before);
    assert.match(await readFile(metrics, "utf8"), /^hail_errors_total\{profile="myapp",kind="replay"\} 1$/m);
  });

  it("with --allow-downgrade the older signed release is deployed", async () => {
    const r = await oneshot("--allow-downgrade");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
  });
});

describe("signed releases: what `hail sign` writes is what a host deploys", () => {
  let w: World;
  let app1: string;

  before(async () => {
    ({ world: w, apps: [app1] } = await worldWithApps("1"));
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
  });
  after(() => w.close());

  it("hail sign → published → hail --oneshot deploys it, naming the signer", async () => {
    const key = await makeKey(w, "release-manager");
    const signers = await writeAllowedSigners(w, [signerLine("release@example.org", key)]);
    const out = path.join(w.lab.root, "signed.json");
    const signed = await w.hail(["sign", "--gate-job", w.gateUrl, "--key", key.file, "--output", out, "--expires", "7d"]);
    assert.equal(signed.code, 0, signed.stderr);
    w.hydra.publishFile("/releases/myapp.json", await readFile(out));
    w.hydra.publishFile("/releases/myapp.json.sig", await readFile(`${out}.sig`));
    const r = await w.hail([...w.gateArgs("myapp"), ...releaseArgs(w, signers), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.equal(logLine(r.stderr, /release verified/)?.["principal"], "release@example.org", r.stderr);
  });
});
