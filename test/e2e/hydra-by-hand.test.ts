// The stand-in Hydra by hand (issue 24, point 6): `npm run hydra`'s script and `npm run demo --
// --keep` as a newcomer runs them. The commands they print are run as printed, in a real bash
// (the printed export and alias lines, then one command line), against the built CLI and real
// Nix; the world is changed through the printed control URL.
import assert from "node:assert/strict";
import { access } from "node:fs/promises";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { READY_LINE } from "../demo/try-these.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Only a safety net: the stand-in builds with Nix before it prints; never a timing claim. */
const SAFETY_MS = 300_000;

/** A script of test/demo run with tsx as `npm run …` runs it, its stdout collected. */
class DemoScript {
  private out = "";
  readonly child;

  constructor(file: string, args: string[]) {
    const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
    this.child = execa(process.execPath, ["--import", "tsx", `test/demo/${file}`, ...args], { cwd: ROOT, env, extendEnv: false, reject: false, stdin: "ignore" } as const);
    this.child.stdout?.on("data", (chunk: Buffer) => (this.out += chunk.toString()));
    this.child.stderr?.on("data", (chunk: Buffer) => (this.out += chunk.toString()));
  }

  get output(): string {
    return this.out;
  }

  /** Waits for READY_LINE and returns the printed try-these block. */
  async ready(): Promise<string> {
    const deadline = Date.now() + SAFETY_MS;
    while (!this.out.includes(READY_LINE)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`ended (${this.child.exitCode}) before it was ready:\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`not ready in time:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const start = this.out.indexOf("# ---- try these");
    assert.ok(start >= 0, this.out);
    return this.out.slice(start, this.out.indexOf(READY_LINE));
  }

  /** SIGINT, as Ctrl-C sends it; resolves to the exit code. */
  async interrupt(): Promise<number | undefined> {
    if (this.child.pid !== undefined && this.child.exitCode === null) process.kill(this.child.pid, "SIGINT");
    return (await this.child).exitCode;
  }

  /** After a failed test: ends the script by its pid, so it cannot keep a server running. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) await this.interrupt();
  }
}

/** The first line of the block that starts with `prefix` (and contains `also`). */
function line(block: string, prefix: string, also = ""): string {
  const found = block.split("\n").find((l) => l.startsWith(prefix) && l.includes(also));
  assert.ok(found !== undefined, `a line starting with ${prefix}: ${block}`);
  return found;
}

/** The setup lines (export NIX_CONFIG=… through alias hail=…) and then `command`, in bash. */
async function inBash(block: string, command: string): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  const setup = block.slice(block.indexOf("export NIX_CONFIG="), block.indexOf("\n", block.indexOf("alias hail=")));
  const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
  const r = await execa("bash", [], { input: `shopt -s expand_aliases\n${setup}\n${command}\n`, env, extendEnv: false, reject: false, timeout: SAFETY_MS });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

async function planJson(block: string): Promise<{ action: string; storePath: string; buildId: number }> {
  const r = await inBash(block, `${line(block, "hail plan ")} --json`);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { action: string; storePath: string; buildId: number };
}

/** The temp dir the block's --profiles-dir lives in (the lab's root, removed at the end). */
function tempDirOf(block: string): string {
  const profiles = /--profiles-dir (\S+)\/profiles /.exec(block)?.[1];
  assert.ok(profiles !== undefined, block);
  return profiles;
}

async function gone(dir: string): Promise<boolean> {
  return access(dir).then(() => false, () => true);
}

describe("npm run hydra: the stand-in Hydra by hand", () => {
  const script = new DemoScript("hydra-by-hand.ts", ["--port", "0"]);
  after(() => script.stop());

  it("prints commands that deploy, a control that breaks the next build, and Ctrl-C removes everything", async () => {
    const block = await script.ready();
    const dir = tempDirOf(block);

    const first = await planJson(block);
    assert.equal(first.action, "deploy");
    assert.match(first.storePath, /-myapp-1$/);

    const oneshot = line(block, "hail run ", "--oneshot");
    const deployed = await inBash(block, oneshot);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /deployed build 101 /);
    for (const manage of ["hail status ", "hail hold ", "hail release "]) {
      const r = await inBash(block, line(block, manage));
      assert.equal(r.code, 0, `${manage}: ${r.stderr}`);
    }

    const broken = /^curl -X POST (\S+\/_control\/publish-broken) /m.exec(block)?.[1];
    assert.ok(broken !== undefined, block);
    const answer = await fetch(broken, { method: "POST" });
    const said = await answer.text();
    assert.equal(answer.status, 200, said);
    assert.match(said, /myapp 111 .*-myapp-2 \(version 2\)/);
    assert.match(said, /bin\/activate exits 1/);

    const failed = await inBash(block, oneshot);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stdout, /failed to deploy build 111 .*\(rolled back\)/);

    const known = await planJson(block);
    assert.equal(known.action, "skip");
    assert.equal(known.buildId, 111);

    assert.equal(await script.interrupt(), 0, script.output);
    assert.ok(await gone(dir), `${dir} is removed`);
  });
});

describe("npm run demo -- --keep", () => {
  const demo = new DemoScript("demo.ts", ["--keep"]);
  after(() => demo.stop());

  it("keeps the tour's world running after the tour, until SIGINT ends it with 0 and removes it", async () => {
    const block = await demo.ready();
    const dir = tempDirOf(block);
    // still serving after the tour: the printed status reads the kept state, plan the kept Hydra
    const status = await inBash(block, `${line(block, "hail status ")} --json`);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /"buildId": ?111/);
    assert.equal((await planJson(block)).action, "none");

    assert.equal(await demo.interrupt(), 0, demo.output);
    assert.ok(await gone(dir), `${dir} is removed`);
  });
});
