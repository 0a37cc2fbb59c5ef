// A content-addressed derivation on Hydra: a finished, successful constituent (or --job-uri
// build) whose buildoutputs.out.path is null. hail treats it as "not deployable yet": a one-shot
// exits 75, plan names it, the daemon skips and asks again, nothing is marked bad, and once
// Hydra knows the path it deploys. The built CLI against the test server with real Nix.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { publishedApps, createWorld, type World } from "./world.js";

const CA_PENDING = "output path not known yet (content-addressed derivation)";

describe("content-addressed outputs: buildoutputs.out.path null", () => {
  let w: World;
  let app: string;

  before(async () => {
    w = await createWorld();
    [app = ""] = await publishedApps(w.lab, { name: "myapp", version: "1" });
    w.hydra.loadScenario("gate-ca-pending.json");
  });
  after(() => w.close());

  it("--oneshot: exits 75 naming it, deploys nothing, marks nothing bad", async () => {
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, new RegExp(`build 101 \\(.*/build/100/constituents\\) output "out": ${CA_PENDING.replace(/[()]/g, "\\$&")}`));
    assert.doesNotMatch(r.stderr, /invalid|unexpected JSON|known-bad/i);
    assert.equal(await w.profileTarget("myapp"), null);
    assert.deepEqual((await w.readState("myapp"))?.failed ?? [], []);
  });

  it("--job-uri: the same for a plain job's build", async () => {
    const r = await w.hail(["--job-uri", `${w.hydra.url}/job/myproject/main/myapp`, "--profile", "plain", ...w.labArgs(), "--oneshot"]);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, new RegExp(CA_PENDING.replace(/[()]/g, "\\$&")));
    assert.equal(await w.profileTarget("plain"), null);
  });

  it("plan names it", async () => {
    const r = await w.hail(["plan", ...w.gateArgs("myapp")]);
    assert.match(r.stdout + r.stderr, new RegExp(CA_PENDING.replace(/[()]/g, "\\$&")));
    assert.equal(r.code, 75, `${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout + r.stderr, /invalid|unexpected JSON/i);
  });

  it("the daemon skips it, asks again at each poll, and deploys once Hydra knows the path", async () => {
    const daemon = w.startDaemon([...w.gateArgs("myapp"), "--poll-period", "1s"]);
    const constituentRequests = () => w.hydra.requests.filter((q) => q.path === "/build/100/constituents").length;
    const seen = constituentRequests();
    await daemon.waitFor(() => constituentRequests() >= seen + 2, "two polls that ask for the constituents again");
    assert.match(daemon.stderr, new RegExp(CA_PENDING.replace(/[()]/g, "\\$&")));
    assert.equal(await w.profileTarget("myapp"), null);
    // The queue runner registered the realisation: Hydra now answers the path.
    w.hydra.updateBuild(101, { outputs: { out: app } });
    await daemon.waitFor(async () => (await w.profileTarget("myapp")) === app, "the deployment of the now known path");
    assert.ok(daemon.alive, daemon.stderr);
    const state = await w.readState("myapp");
    assert.deepEqual(state?.failed, []);
    await daemon.stop("SIGTERM");
  });
});
