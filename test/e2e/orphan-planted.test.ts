// A state file that names a process group hail did not start (stale: the pgid was reused; or
// planted) never makes root hail wait for or kill that group: it checks the leader's start time
// and the boot id recorded beside the pgid, leaves the group alone with a warning, and deploys.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { processState } from "./proc-watch.js";
import { groupMembers, killPids, worldAtGreenGate, type World } from "./world.js";

/** field 22 of /proc/PID/stat: the start time in clock ticks since boot */
async function startTicks(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] as string;
}

describe("a state file naming an unrelated process group", () => {
  let w: World;
  let app: string;
  let bootId: string;

  before(async () => {
    ({ world: w, apps: [app] } = await worldAtGreenGate("1"));
    bootId = (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
  });
  after(() => w.close());

  /** `sleep` as the leader of its own new session and process group, as an unrelated service would be. */
  async function unrelatedGroup(): Promise<number> {
    const child = execa("setsid", ["sleep", "600"], { stdin: "ignore", stdout: "ignore", stderr: "ignore", reject: false });
    const pid = child.pid as number;
    // setsid execs sleep in the same process when it is not already a group leader
    for (;;) {
      const comm = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
      if (comm === "sleep" && (await groupMembers(pid)).includes(pid)) return pid;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function plantState(activation: Record<string, unknown>): Promise<void> {
    await mkdir(w.stateDir, { recursive: true, mode: 0o755 });
    const state = {
      version: 1,
      profile: "myapp",
      profilePath: path.join(w.lab.profilesDir, "myapp"),
      lastDeployed: null,
      lastAttempt: null,
      lastError: null,
      failed: [],
      hold: null,
      activation: { startedAt: "2026-12-01T00:00:00.000Z", ...activation },
    };
    await writeFile(w.stateFile("myapp"), `${JSON.stringify(state)}\n`, { mode: 0o600 });
  }

  const cases: Array<[string, (pgid: number) => Promise<Record<string, unknown>>]> = [
    ["without a start time or boot id (planted, or from an older hail)", async (pgid) => ({ pgid, processStart: null })],
    ["with the leader's start time but another boot's id (stale across a reboot)", async (pgid) => ({ pgid, processStart: await startTicks(pgid), bootId: "00000000-0000-4000-8000-000000000000" })],
    ["with this boot's id and another start time (the pgid was reused)", async (pgid) => ({ pgid, processStart: String(Number(await startTicks(pgid)) - 1), bootId })],
  ];

  for (const [what, activation] of cases) {
    it(`${what}: the group is left alone with a warning, and hail deploys`, async () => {
      const pgid = await unrelatedGroup();
      try {
        await plantState(await activation(pgid));
        const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--activate-timeout", "2s"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`names process group ${pgid} .*leaves the group alone and goes on`));
        assert.doesNotMatch(r.stderr, /killed the earlier activation|waiting up to/);
        assert.equal(await processState(pgid), "S", "the unrelated group's leader still runs");
        assert.equal(await w.profileTarget("myapp"), app);
        assert.equal((await w.readState("myapp"))?.activation, null);
      } finally {
        await killPids([pgid]);
      }
    });
  }
});
