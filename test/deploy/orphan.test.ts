import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { settleOrphanedActivation } from "../../src/deploy/orphan.js";
import { deployedV2, FakeProcesses, memoryLog, MemoryStore } from "./fake-world.js";

const PGID = 4242;

/** A state file that says an activation in group 4242 (leader started at tick 777, in boot-1, the fake's boot) was running. */
function orphanWorld() {
  const store = new MemoryStore({ ...deployedV2(), activation: { pgid: PGID, processStart: "777", bootId: "boot-1", startedAt: "2026-03-01T11:00:00.000Z" } });
  const processes = new FakeProcesses();
  const log = memoryLog();
  return { store, processes, log, settle: (timeoutMs: number) => settleOrphanedActivation({ store, processes, log }, timeoutMs) };
}

const warnings = (log: ReturnType<typeof memoryLog>) => log.lines.filter((l) => l.level === "warn").map((l) => l.msg);

describe("settleOrphanedActivation", () => {
  it("no activation recorded: nothing is checked or written", async () => {
    const w = orphanWorld();
    w.store.state = deployedV2();
    await w.settle(60_000);
    assert.equal(w.store.writes, 0);
    assert.deepEqual(w.processes.signals, []);
  });

  it("the recorded group is gone: the record is cleared, nobody signalled", async () => {
    const w = orphanWorld();
    await w.settle(60_000);
    assert.equal(w.store.state.activation, null);
    assert.deepEqual(w.processes.signals, []);
    assert.deepEqual(warnings(w.log), []);
  });

  it("the group lives but its leader is another process (a recycled pgid): not ours, not waited for, left alone with a warning", async () => {
    const w = orphanWorld();
    w.processes.alive.set(PGID, Infinity);
    w.processes.starts.set(PGID, "999");
    await w.settle(0);
    assert.equal(w.store.state.activation, null);
    assert.deepEqual(w.processes.signals, []);
    assert.match(warnings(w.log).join("\n"), /process group 4242 .*started at tick 999, not at tick 777 .*leaves the group alone and goes on/);
  });

  it("our activation still runs and ends within the timeout: waited for, not signalled", async () => {
    const w = orphanWorld();
    w.processes.alive.set(PGID, 2); // alive for the ownership check and the first wait check
    w.processes.starts.set(PGID, "777");
    await w.settle(60_000);
    assert.equal(w.store.state.activation, null);
    assert.deepEqual(w.processes.signals, []);
    assert.ok(w.log.lines.some((l) => l.msg === `the earlier activation (process group ${PGID}) finished; going on`));
  });

  it("our activation outlives the timeout: SIGTERM ends it, the record is cleared", async () => {
    const w = orphanWorld();
    w.processes.alive.set(PGID, Infinity);
    w.processes.starts.set(PGID, "777");
    await w.settle(0);
    assert.deepEqual(w.processes.signals, [`SIGTERM ${PGID}`]);
    assert.equal(w.store.state.activation, null);
    assert.match(warnings(w.log).at(-1) ?? "", /^killed the earlier activation \(process group 4242\)/);
  });

  it("a leader that is gone while its group lives: cannot be verified, so nobody is signalled or waited for", async () => {
    const w = orphanWorld();
    w.processes.alive.set(PGID, Infinity);
    await w.settle(0);
    assert.deepEqual(w.processes.signals, []);
    assert.equal(w.store.state.activation, null);
    assert.match(warnings(w.log).join("\n"), /its leader \(pid 4242\) is gone while other members still run.*leaves the group alone/);
  });

  it("the same pgid and start time in another boot (the ticks restart at every boot): left alone", async () => {
    const w = orphanWorld();
    w.processes.alive.set(PGID, Infinity);
    w.processes.starts.set(PGID, "777");
    w.processes.boot = "boot-2";
    await w.settle(0);
    assert.deepEqual(w.processes.signals, []);
    assert.match(warnings(w.log).join("\n"), /recorded in boot boot-1, and this is boot boot-2/);
  });

  for (const [what, activation] of [
    ["no start time", { processStart: null, bootId: "boot-1" }],
    ["no boot id (a state file from an older hail, or planted)", { processStart: "777", bootId: null }],
  ] as const) {
    it(`a record with ${what}: the live group is left alone`, async () => {
      const w = orphanWorld();
      w.store.state = { ...w.store.state, activation: { pgid: PGID, startedAt: "2026-03-01T11:00:00.000Z", ...activation } };
      w.processes.alive.set(PGID, Infinity);
      w.processes.starts.set(PGID, "777");
      await w.settle(0);
      assert.deepEqual(w.processes.signals, []);
      assert.equal(w.store.state.activation, null);
      assert.match(warnings(w.log).join("\n"), /does not record the leader's start time and boot id/);
    });
  }
});
