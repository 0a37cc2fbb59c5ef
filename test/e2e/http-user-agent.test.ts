// Every request the built CLI makes names hail (User-Agent hail/VERSION (pull deployer)): plan,
// a one-shot deploy with real Nix, and a private Hydra's login. Nix's own requests to the binary
// cache carry Nix's User-Agent and are told apart by it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HydraTestServer, type RecordedRequest } from "../support/hydra-server.js";
import { runHail } from "../support/cli.js";
import { worldAtGreenGate, type World } from "./world.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
const HAIL_UA = `hail/${version} (pull deployer)`;

const userAgent = (q: RecordedRequest) => String(q.headers["user-agent"] ?? "(none)");
/** Nix's substituter requests (curl with Nix's User-Agent), not hail's. */
const byNix = (q: RecordedRequest) => / Nix\/\S+/.test(userAgent(q));

/** The requests hail made since `from`: at least one, each with hail's User-Agent. */
function assertAllNamedHail(requests: RecordedRequest[], what: string): RecordedRequest[] {
  const hails = requests.filter((q) => !byNix(q));
  assert.ok(hails.length > 0, `${what}: no request from hail was recorded`);
  const others = hails.filter((q) => userAgent(q) !== HAIL_UA).map((q) => `${q.method} ${q.path}: ${userAgent(q)}`);
  assert.deepEqual(others, [], `${what}: requests without User-Agent ${HAIL_UA}`);
  return hails;
}

describe("User-Agent on every request of the built CLI", () => {
  let w: World;

  before(async () => {
    ({ world: w } = await worldAtGreenGate("1"));
  });
  after(() => w.close());

  it("plan: the Hydra requests and its own binary cache checks", async () => {
    w.hydra.resetRequests();
    const r = await w.hail(["plan", ...w.gateArgs("myapp")]);
    assert.equal(r.code, 0, r.stderr);
    const hails = assertAllNamedHail(w.hydra.requests, "plan");
    const paths = hails.map((q) => q.path);
    assert.ok(paths.includes("/job/myproject/main/release_gate/latest-finished"), paths.join(" "));
    assert.ok(paths.some((p) => p.endsWith(".narinfo")), `plan asked the cache nothing itself: ${paths.join(" ")}`);
  });

  it("--oneshot: Hydra's answers and the deployment (Nix's own cache requests aside)", async () => {
    w.hydra.resetRequests();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assertAllNamedHail(w.hydra.requests, "--oneshot");
    assert.ok(w.hydra.requests.some(byNix), "Nix fetched nothing: the test would not tell hail's requests from Nix's");
  });

  it("a private Hydra: the login POST and the requests in the session", async () => {
    const password = "pw-for-the-user-agent-test";
    const hydra = await HydraTestServer.start({ cacheDir: w.lab.cacheDir, private: { user: "deployer", password } });
    try {
      hydra.loadScenario("gate-green.json", { app1: (await w.profileTarget("myapp")) ?? "" });
      const file = path.join(w.lab.root, "ua-password");
      await writeFile(file, password, { mode: 0o600 });
      const r = await runHail(
        ["plan", "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp", "--profile", "myapp", ...w.labArgs(), "--hydra-user", "deployer", "--hydra-password-file", file],
        w.env,
      );
      assert.equal(r.code, 0, r.stderr);
      const hails = assertAllNamedHail(hydra.requests, "private plan");
      assert.ok(hails.some((q) => q.method === "POST" && q.path === "/login"), "no login was made");
    } finally {
      await hydra.close();
    }
  });
});
