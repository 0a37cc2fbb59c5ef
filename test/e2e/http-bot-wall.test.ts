// A bot wall in front of Hydra, against the built CLI with real Nix: a challenge page (403, 503
// or even 200) is "Hydra's bot protection refused hail; ask its operators to allow User-Agent
// hail/…", exit 69, in plan and in a one-shot, never "invalid JSON" or "wants a login"; nothing
// is deployed or marked bad. A wall that lets hail's User-Agent through does not stop it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import type { HailRun } from "../support/cli.js";
import { runHail } from "../support/cli.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { worldAtGreenGate, type World } from "./world.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
const WALL_LINE = new RegExp(`Hydra's bot protection refused hail; ask its operators to allow User-Agent "hail/${version.replace(/\./g, "\\.")} \\(pull deployer\\)"`);
const MISTAKEN = /JSON|wants a login|--netrc-file|--hydra-password-file|known-bad/;

const lastLine = (r: HailRun) => r.stderr.trimEnd().split("\n").at(-1) ?? "";

describe("a bot wall in front of Hydra", () => {
  let w: World;
  let app: string;

  before(async () => {
    ({ world: w, apps: [app] } = await worldAtGreenGate("1"));
  });
  afterEach(() => {
    w.hydra.botWall = undefined;
  });
  after(() => w.close());

  const walls: Array<[string, number, string, RegExp]> = [
    ["an Anubis proof-of-work page as a 403", 403, "bot-wall-anubis.html", /HTTP 403 with a challenge page of Anubis/],
    ["a Cloudflare challenge as a 503 (retried, then given up)", 503, "bot-wall-cloudflare.html", /HTTP 503 with a challenge page of Cloudflare/],
    ["a Cloudflare challenge as a 200", 200, "bot-wall-cloudflare.html", /HTTP 200 with a challenge page of Cloudflare/],
  ];
  for (const [what, status, page, detail] of walls) {
    for (const command of ["plan", "--oneshot"] as const) {
      it(`${what}: ${command} exits 69 saying so`, async () => {
        w.hydra.botWall = { status, page };
        const args = command === "plan" ? ["plan", ...w.gateArgs("myapp")] : [...w.gateArgs("myapp"), "--oneshot"];
        const r = await w.hail(args);
        assert.equal(r.code, 69, r.stderr);
        assert.match(lastLine(r), WALL_LINE);
        assert.match(lastLine(r), detail);
        assert.doesNotMatch(r.stdout + r.stderr, MISTAKEN);
        assert.equal(await w.profileTarget("myapp"), null);
        assert.deepEqual((await w.readState("myapp"))?.failed ?? [], []);
      });
    }
  }

  it("a private Hydra whose login meets the wall: 69 saying so, not a wrong password", async () => {
    const hydra = await HydraTestServer.start({ cacheDir: w.lab.cacheDir, private: { user: "deployer", password: "pw-bot-wall" } });
    try {
      hydra.loadScenario("gate-green.json", { app1: app });
      hydra.botWall = { status: 403, page: "bot-wall-anubis.html" };
      const file = path.join(w.lab.root, "bot-wall-password");
      await writeFile(file, "pw-bot-wall", { mode: 0o600 });
      const r = await runHail(
        ["plan", "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp", "--profile", "myapp", ...w.labArgs(), "--hydra-user", "deployer", "--hydra-password-file", file],
        w.env,
      );
      assert.equal(r.code, 69, r.stderr);
      assert.match(lastLine(r), /\/login: cannot log in as "deployer": HTTP 403 with a challenge page of Anubis/);
      assert.match(lastLine(r), WALL_LINE);
      assert.doesNotMatch(lastLine(r), MISTAKEN);
    } finally {
      await hydra.close();
    }
  });

  it("a wall that lets hail's User-Agent through: the one-shot deploys, while a browser's is still stopped", async () => {
    w.hydra.botWall = { status: 403, page: "bot-wall-anubis.html", allow: /^hail\// };
    const browser = await fetch(`${w.gateUrl}/latest-finished`, { headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64)" }, redirect: "manual" });
    assert.equal(browser.status, 403);
    await browser.body?.cancel();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app);
  });
});
