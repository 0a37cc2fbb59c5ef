// --home-manager without Nix: where the profile and the state dir default to (by XDG_STATE_HOME
// and the running user), what counts as a Home Manager generation, and how the mode is chosen.
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { RawOptions } from "../../src/cli/option-table.js";
import { toAgentConfig } from "../../src/cli/options.js";
import { buildReport, renderPlan } from "../../src/cli/plan.js";
import { deploymentCommands } from "../../src/deploy/deploy.js";
import { checkHomeManagerGeneration, defaultHomeManagerProfile, NotAHomeManagerGeneration } from "../../src/deploy/home-manager.js";
import { UsageError } from "../../src/errors.js";
import { defaultStateDir } from "../../src/state/state-dir.js";

const GATE = "https://hydra.example.org/job/myproject/main/release_gate";
const STORE_PATH = "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-home-manager-generation";

function raw(fields: Partial<RawOptions> = {}): RawOptions {
  return { profilesDir: "/nix/var/nix/profiles", output: "out", logLevel: "info", timeout: "30s", rolloutWindow: "0", gateJob: GATE, constituent: "myapp", ...fields };
}

describe("the default Home Manager profile", () => {
  const home = () => "/home/alice";

  it("is $XDG_STATE_HOME/nix/profiles/home-manager", () => {
    assert.equal(defaultHomeManagerProfile({ XDG_STATE_HOME: "/srv/state" }, home), "/srv/state/nix/profiles/home-manager");
  });

  it("is ~/.local/state/nix/profiles/home-manager when XDG_STATE_HOME is unset, empty or relative", () => {
    for (const env of [{}, { XDG_STATE_HOME: "" }, { XDG_STATE_HOME: "state" }]) {
      assert.equal(defaultHomeManagerProfile(env, home), "/home/alice/.local/state/nix/profiles/home-manager");
    }
  });

  it("is a usage error when neither XDG_STATE_HOME nor the home directory is absolute", () => {
    assert.throws(() => defaultHomeManagerProfile({}, () => ""), (err: unknown) => err instanceof UsageError && /set HOME, or give --profile/.test(err.hint ?? ""));
  });

  it("is what --home-manager deploys to without --profile; a --profile given wins", () => {
    const saved = process.env.XDG_STATE_HOME;
    process.env.XDG_STATE_HOME = "/srv/state";
    try {
      const config = toAgentConfig(raw({ homeManager: true }), false);
      assert.equal(config.target.profile.path, "/srv/state/nix/profiles/home-manager");
      assert.equal(config.target.homeManager, true);
      assert.equal(toAgentConfig(raw({ homeManager: true, profile: "alice-home" }), false).target.profile.path, "/nix/var/nix/profiles/alice-home");
    } finally {
      if (saved === undefined) delete process.env.XDG_STATE_HOME;
      else process.env.XDG_STATE_HOME = saved;
    }
  });

  it("without --home-manager, --profile stays required", () => {
    assert.throws(() => toAgentConfig(raw(), false), /--profile is required/);
  });

  it("--home-manager with --nixos is a usage error", () => {
    assert.throws(() => toAgentConfig(raw({ homeManager: true, nixos: true, profile: "p" }), false), (err: unknown) => err instanceof UsageError && err.exitCode === 64);
  });
});

describe("the default state dir", () => {
  it("is /var/lib/hail for root, whatever XDG_STATE_HOME says", () => {
    assert.equal(defaultStateDir(0, { XDG_STATE_HOME: "/srv/state" }), "/var/lib/hail");
  });

  it("is $XDG_STATE_HOME/hail, or ~/.local/state/hail, for another user", () => {
    assert.equal(defaultStateDir(1000, { XDG_STATE_HOME: "/srv/state" }), "/srv/state/hail");
    assert.equal(defaultStateDir(1000, {}, () => "/home/alice"), "/home/alice/.local/state/hail");
  });

  it("is the state dir of a run without --state-dir (for the user running this test)", () => {
    const config = toAgentConfig(raw({ profile: "p" }), false);
    assert.equal(config.stateDir, defaultStateDir());
    assert.equal(toAgentConfig(raw({ profile: "p", stateDir: "/tmp/hail-state" }), false).stateDir, "/tmp/hail-state");
  });
});

describe("checkHomeManagerGeneration", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "hail-hm-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function generation(name: string, parts: { activate?: "exec" | "plain"; homePath?: boolean }): Promise<string> {
    const out = path.join(dir, name);
    await mkdir(out);
    if (parts.activate !== undefined) {
      await writeFile(path.join(out, "activate"), "#!/bin/sh\n");
      await chmod(path.join(out, "activate"), parts.activate === "exec" ? 0o555 : 0o444);
    }
    if (parts.homePath === true) await mkdir(path.join(out, "home-path"));
    return out;
  }

  it("accepts an executable activate with a home-path", async () => {
    await checkHomeManagerGeneration(await generation("ok", { activate: "exec", homePath: true }));
  });

  it("refuses (65) naming what is missing", async () => {
    const cases: [string, Parameters<typeof generation>[1], RegExp][] = [
      ["no-activate", { homePath: true }, /has no executable activate at its top/],
      ["no-home-path", { activate: "exec" }, /has no home-path at its top/],
      ["neither", {}, /has no executable activate and no home-path/],
    ];
    for (const [name, parts, message] of cases) {
      await assert.rejects(checkHomeManagerGeneration(await generation(name, parts)), (err: unknown) => {
        assert.ok(err instanceof NotAHomeManagerGeneration);
        assert.equal(err.exitCode, 65);
        assert.match(err.message, message);
        assert.match(err.message, /homeConfigurations\.USER\.activationPackage/);
        return true;
      });
    }
  });

  it("refuses an activate without any execute bit", async () => {
    await assert.rejects(checkHomeManagerGeneration(await generation("plain", { activate: "plain", homePath: true })), /no executable activate/);
  });
});

describe("plan of a --home-manager target", () => {
  it("runs STORE_PATH/activate, not PROFILE/bin/activate, and says the mode", () => {
    const target = { ...toAgentConfig(raw({ homeManager: true, profile: "/home/alice/.local/state/nix/profiles/home-manager" }), false).target };
    assert.deepEqual(deploymentCommands(target, STORE_PATH).at(-1), { file: `${STORE_PATH}/activate`, args: [] });
    const resolution = { gateBuildId: 100, buildId: 101, job: "myapp", evals: [10], storePath: STORE_PATH } as Parameters<typeof buildReport>[1];
    const report = buildReport(target, resolution, null, { kind: "deploy" });
    assert.equal(report.mode, "home-manager");
    assert.match(renderPlan(report), /^mode: +home-manager/m);
  });
});
