import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HookEvent, Hooks } from "../../src/deploy/hooks.js";
import { runHook } from "../../src/deploy/hooks.js";
import { ActivationFailed } from "../../src/errors.js";
import type { Log, LogFields } from "../../src/log.js";
import type { Command } from "../../src/nix/commands.js";
import type { ProcessOptions, ProcessRunner } from "../../src/nix/runner.js";

interface Spawned { cmd: Command; what: string; opts: ProcessOptions }

/** Records every process the hook code would start; `behave` decides how it ends. */
function fakeRunner(behave: (s: Spawned) => Promise<void> = async () => {}) {
  const spawned: Spawned[] = [];
  const runner: ProcessRunner = {
    async runNix() {
      throw new Error("a hook must not run nix");
    },
    async captureNix() {
      throw new Error("a hook must not run nix");
    },
    async runActivation(cmd, what, opts) {
      const s = { cmd, what, opts };
      spawned.push(s);
      await behave(s);
    },
  };
  return { runner, spawned };
}

interface Line { level: string; msg: string; fields: LogFields }

function recordingLog(lines: Line[] = [], base: LogFields = {}): Log & { lines: Line[] } {
  const emit = (level: string) => (msg: string, fields?: LogFields) => lines.push({ level, msg, fields: { ...base, ...fields } });
  return {
    lines,
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => recordingLog(lines, { ...base, ...fields }),
  };
}

const PROFILE = "/nix/var/nix/profiles/hail/myapp";
const STORE_PATH = "/nix/store/fzjyrn6d59z24spgsr4q0g6arx6a7hcz-myapp-2";
const HOOKS: Hooks = { onSuccess: ["/usr/local/bin/notify", "deployed", "two words"], onFailure: ["/usr/local/bin/page-oncall", "--team", "ops"] };

function event(result: "success" | "failed", error: string | null = null): HookEvent {
  return { profilePath: PROFILE, result, storePath: STORE_PATH, buildId: 201, error };
}

describe("runHook", () => {
  it("a success runs --on-success as an argv, with the HAIL_* environment", async () => {
    const { runner, spawned } = fakeRunner();
    const code = await runHook(runner, recordingLog(), HOOKS, event("success"), 30_000);
    assert.equal(code, 0);
    assert.equal(spawned.length, 1);
    const [s] = spawned;
    assert.deepEqual(s?.cmd, { file: "/usr/local/bin/notify", args: ["deployed", "two words"] });
    assert.deepEqual(s?.opts.env, {
      HAIL_PROFILE: PROFILE,
      HAIL_RESULT: "success",
      HAIL_STORE_PATH: STORE_PATH,
      HAIL_BUILD_ID: "201",
      HAIL_ERROR: "",
    });
    assert.equal(s?.opts.timeoutMs, 30_000, "the timeout given is the hook's");
  });

  it("a failure runs --on-failure, with HAIL_RESULT=failed and the error", async () => {
    const { runner, spawned } = fakeRunner();
    const code = await runHook(runner, recordingLog(), HOOKS, event("failed", "activation `…/bin/activate` failed (exit 3)"), 5_000);
    assert.equal(code, 0);
    assert.deepEqual(spawned.map((s) => s.cmd), [{ file: "/usr/local/bin/page-oncall", args: ["--team", "ops"] }]);
    assert.deepEqual(spawned[0]?.opts.env, {
      HAIL_PROFILE: PROFILE,
      HAIL_RESULT: "failed",
      HAIL_STORE_PATH: STORE_PATH,
      HAIL_BUILD_ID: "201",
      HAIL_ERROR: "activation `…/bin/activate` failed (exit 3)",
    });
    assert.equal(spawned[0]?.opts.timeoutMs, 5_000);
  });

  // [what, hooks, result, hook expected to run (file) or null]
  const choice: Array<[string, Hooks, "success" | "failed", string | null]> = [
    ["no hooks, success", { onSuccess: null, onFailure: null }, "success", null],
    ["no hooks, failure", { onSuccess: null, onFailure: null }, "failed", null],
    ["only --on-failure, success", { onSuccess: null, onFailure: ["f"] }, "success", null],
    ["only --on-success, failure", { onSuccess: ["s"], onFailure: null }, "failed", null],
    ["only --on-success, success", { onSuccess: ["s"], onFailure: null }, "success", "s"],
    ["only --on-failure, failure", { onSuccess: null, onFailure: ["f"] }, "failed", "f"],
    ["an empty argv runs nothing", { onSuccess: [], onFailure: [] }, "success", null],
  ];
  for (const [what, hooks, result, file] of choice) {
    it(`${what} -> ${file ?? "nothing runs, 0"}`, async () => {
      const { runner, spawned } = fakeRunner();
      const code = await runHook(runner, recordingLog(), hooks, event(result, result === "failed" ? "boom" : null), 1_000);
      assert.equal(code, 0);
      assert.deepEqual(spawned.map((s) => s.cmd.file), file === null ? [] : [file]);
    });
  }

  it("a hook that fails returns 1, is logged as a warning, and does not throw", async () => {
    const { runner } = fakeRunner(async (s) => {
      throw new ActivationFailed(`${s.what} \`${s.cmd.file}\` failed (exit 7)`);
    });
    const log = recordingLog();
    const code = await runHook(runner, log, HOOKS, event("success"), 1_000);
    assert.equal(code, 1);
    const warnings = log.lines.filter((l) => l.level === "warn");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.msg ?? "", /on-success hook `\/usr\/local\/bin\/notify` failed \(exit 7\)/);
    assert.match(warnings[0]?.msg ?? "", /result stands/);
    assert.equal(warnings[0]?.fields.errorKind, "hook");
  });

  it("a hook that times out returns 1 as well", async () => {
    const { runner } = fakeRunner(async (s) => {
      throw new ActivationFailed(`${s.what} timed out after ${s.opts.timeoutMs / 1000}s and was killed`);
    });
    const log = recordingLog();
    assert.equal(await runHook(runner, log, HOOKS, event("failed", "boom"), 2_000), 1);
    assert.match(log.lines.find((l) => l.level === "warn")?.msg ?? "", /on-failure hook timed out after 2s/);
  });

  it("an unexpected (non-hail) error in a hook is logged and counted, never thrown: the deployment's result stands", async () => {
    const { runner } = fakeRunner(async () => {
      throw new TypeError("bug");
    });
    const log = recordingLog();
    assert.equal(await runHook(runner, log, HOOKS, event("success"), 1_000), 1);
    assert.match(log.lines.find((l) => l.level === "warn")?.msg ?? "", /on-success hook failed: bug; the deployment's result stands/);
  });

  it("the hook's output is logged line by line, marked as the hook's", async () => {
    const { runner } = fakeRunner(async (s) => {
      s.opts.onLine("notified #ops");
      s.opts.onLine("done");
    });
    const log = recordingLog();
    await runHook(runner, log, HOOKS, event("success"), 1_000);
    const hookLines = log.lines.filter((l) => l.fields.source === "on-success hook");
    assert.deepEqual(hookLines.map((l) => [l.level, l.msg]), [["info", "notified #ops"], ["info", "done"]]);
  });

  it("names itself by which hook it is", async () => {
    const { runner, spawned } = fakeRunner();
    await runHook(runner, recordingLog(), HOOKS, event("success"), 1_000);
    await runHook(runner, recordingLog(), HOOKS, event("failed", "x"), 1_000);
    assert.deepEqual(spawned.map((s) => s.what), ["on-success hook", "on-failure hook"]);
  });
});
