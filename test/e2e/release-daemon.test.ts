// The daemon with a signed release, built CLI, real Nix and ssh-keygen: a refused release is
// counted by its kind in hail_errors_total, the deployed build is kept and the daemon goes on;
// a newer unsigned build is said once, not at every poll.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { greenGate, worldAtGreenGate, type World } from "./world.js";
import { makeKey, publishRelease, releaseArgs, signerLine, writeAllowedSigners } from "./release-kit.js";

async function metricValue(file: string, series: RegExp): Promise<string | undefined> {
  const text = await readFile(file, "utf8").catch(() => "");
  for (const line of text.split("\n")) if (series.test(line)) return line.split(" ").at(-1);
  return undefined;
}

describe("signed releases in the daemon", () => {
  let w: World;
  let app1: string;
  let app2: string;

  before(async () => {
    ({ world: w, apps: [app1, app2] } = await worldAtGreenGate("1", "2"));
  });
  after(() => w.close());

  it("counts a refused release by kind, keeps the deployed build, and says a wait once", async () => {
    const key = await makeKey(w, "release-manager");
    const stranger = await makeKey(w, "stranger");
    const signers = await writeAllowedSigners(w, [signerLine("alice@example.org", key)]);
    const metrics = path.join(w.lab.root, "daemon.prom");
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key });
    const daemon = w.startDaemon([...w.gateArgs("myapp"), ...releaseArgs(w, signers), "--poll-period", "1s", "--metrics-file", metrics]);
    await daemon.waitFor(async () => (await w.activations()).length === 1, "the signed build deployed");
    assert.equal(await w.profileTarget("myapp"), app1);

    // a release signed by a key nobody allowed, for a newer build
    for (const b of greenGate(103, 11, app2)) w.hydra.addBuild(b);
    await publishRelease(w, { build: 103, constituents: { myapp: app2 }, key: stranger });
    await daemon.waitFor(async () => (await metricValue(metrics, /^hail_errors_total\{profile="myapp",kind="signer-unknown"\}/)) === "2", "two refused passes counted");
    assert.equal(await w.profileTarget("myapp"), app1, "the deployed build is kept");
    assert.equal(daemon.alive, true);

    // the genuine release of 100 again, while 103 is unsigned: waiting, said once over several polls
    await publishRelease(w, { build: 100, constituents: { myapp: app1 }, key });
    const polls = () => w.hydra.requests.filter((q) => q.path === "/releases/myapp.json.sig").length;
    const start = polls();
    await daemon.waitFor(() => polls() >= start + 3, "three more polls");
    await daemon.waitFor(/waiting for a signed release/, "the wait said");
    const said = daemon.logLines().filter((l) => String(l["msg"]).includes("waiting for a signed release") && JSON.stringify(l["_meta"]).includes('"logLevelName":"INFO"'));
    assert.equal(said.length, 1, daemon.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.deepEqual(await w.activations(), [`activated ${app1} build=101`]);
    await daemon.stop();
  });
});
