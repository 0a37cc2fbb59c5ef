// The core story end to end: the built CLI, the Hydra test server, real Nix.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createWorld, greenGate, publishedApps, type World } from "./world.js";

describe("hail --oneshot through a release gate, with real Nix", () => {
  let w: World;
  let app1: string;
  let app2: string;

  before(async () => {
    w = await createWorld();
    [app1, app2] = (await publishedApps(w.lab, { name: "myapp", version: "1" }, { name: "myapp", version: "2" })) as [string, string];
  });
  after(() => w.close());

  it("first deploy: substitutes from the cache, makes generation 1, activates once", async () => {
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployed build 101 /);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.deepEqual(await w.generations("myapp"), [1]);
    assert.deepEqual(await w.activations(), [`activated ${app1} build=101`]);
    const narinfo = app1.slice("/nix/store/".length, "/nix/store/".length + 32);
    assert.ok(w.hydra.requests.some((q) => q.path === `/${narinfo}.narinfo`), "nix-store fetched the narinfo from the served cache");
    assert.deepEqual(await w.nixCalls(), [
      `nix-store --realise --dry-run ${app1}`,
      `nix-store --realise ${app1} --max-jobs 0`,
      `nix-env --profile ${w.lab.profilesDir}/myapp --set ${app1}`,
    ]);
    const activationLines = r.stderr.split("\n").filter((l) => l.includes(`"source":"activation"`));
    assert.ok(activationLines.some((l) => l.includes(`activated ${app1} build=101`)), "activation output is logged line by line");
  });

  it("an unchanged gate does nothing: no nix command, no activation", async () => {
    const callsBefore = (await w.nixCalls()).length;
    w.hydra.resetRequests();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /up to date at build 101/);
    assert.deepEqual(
      w.hydra.requests.map((q) => q.path),
      ["/job/myproject/main/release_gate/latest-finished"],
      "an idle one-shot costs one request: the state file remembers the gate build",
    );
    assert.equal((await w.nixCalls()).length, callsBefore);
    assert.equal((await w.activations()).length, 1);
  });

  it("a newer gate build switches: generation 2, a new activation", async () => {
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app2);
    assert.deepEqual(await w.generations("myapp"), [1, 2]);
    assert.deepEqual(await w.activations(), [`activated ${app1} build=101`, `activated ${app2} build=201`]);
  });

  it("plan --json shows the pending deployment and changes nothing", async () => {
    const callsBefore = await w.nixCalls();
    const r = await w.hail(["plan", ...w.gateArgs("fresh"), "--json", "--detailed-exitcode"]);
    assert.equal(r.code, 2, r.stderr);
    const plan = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(plan.action, "deploy");
    assert.equal(plan.gateBuildId, 200);
    assert.equal(plan.buildId, 201);
    assert.deepEqual(plan.evals, [20]);
    assert.equal(plan.storePath, app2);
    assert.equal(plan.currentPath, null);
    assert.deepEqual(plan.commands, [
      `nix-store --realise ${app2} --max-jobs 0`,
      `nix-env --profile ${w.lab.profilesDir}/fresh --set ${app2}`,
      `${w.lab.profilesDir}/fresh/bin/activate`,
    ]);
    assert.deepEqual(await w.nixCalls(), callsBefore, "plan ran no nix command");
    assert.equal(await w.profileTarget("fresh"), null, "plan made no profile");
  });

  it("plan on a current profile: action none, exit 0 even with --detailed-exitcode", async () => {
    const r = await w.hail(["plan", ...w.gateArgs("myapp"), "--detailed-exitcode"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^action: +none$/m);
    assert.match(r.stdout, new RegExp(`^current: +${app2}$`, "m"));
    const json = await w.hail(["plan", ...w.gateArgs("myapp"), "--json"]);
    assert.equal((JSON.parse(json.stdout) as { action: string }).action, "none");
  });

  it("a Location naming another host (a misconfigured proxy) still resolves against the configured URL", async () => {
    w.hydra.locationBase = "http://127.0.0.1:3000";
    try {
      const r = await w.hail(["plan", ...w.gateArgs("myapp"), "--json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { buildId: number }).buildId, 201);
    } finally {
      w.hydra.locationBase = w.hydra.url;
    }
  });

  it("--job-uri deploys the job's latest build (the original hail's mode)", async () => {
    const r = await w.hail(["--job-uri", `${w.hydra.url}/job/myproject/main/myapp`, "--profile", "plain", ...w.labArgs(), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("plain"), app2);
    assert.deepEqual(await w.generations("plain"), [1]);
    assert.equal((await w.activations()).at(-1), `activated ${app2} build=201`);
  });
});
