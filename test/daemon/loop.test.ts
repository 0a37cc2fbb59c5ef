import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLoop, jitteredDelay } from "../../src/daemon/loop.js";

/** Lets pending promise callbacks and zero-delay work run, without waiting on real time. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("jitteredDelay", () => {
  const cases: Array<[number, number]> = [
    [0, 54_000],
    [0.5, 60_000],
    [0.999, 65_988],
  ];
  for (const [r, expected] of cases) {
    it(`random() = ${r} -> ${expected} ms for a 60 s period with ±10 %`, () => {
      const delay = jitteredDelay(60_000, 0.1, () => r);
      assert.equal(delay, expected);
      assert.ok(delay >= 54_000 && delay <= 66_000);
    });
  }

  it("no jitter gives the period", () => assert.equal(jitteredDelay(60_000, 0, () => 0.123), 60_000));

  it("never goes below zero", () => assert.equal(jitteredDelay(1_000, 2, () => 0), 0));
});

describe("createLoop", () => {
  it("runs the pass again and again until stopped", async () => {
    let passes = 0;
    const loop = createLoop(
      async () => {
        passes++;
        if (passes === 3) loop.stop();
      },
      { periodMs: 1, jitter: 0.1 },
    );
    await loop.run();
    assert.equal(passes, 3);
  });

  it("sleeps the jittered period between passes", async () => {
    const draws: number[] = [];
    let passes = 0;
    const loop = createLoop(
      async () => {
        passes++;
        if (passes === 3) loop.stop();
      },
      {
        periodMs: 1,
        jitter: 0.1,
        random: () => {
          draws.push(passes);
          return 0.5;
        },
      },
    );
    await loop.run();
    // one draw after each pass that is followed by another, none after the last
    assert.deepEqual(draws, [1, 2]);
  });

  it("stop() during a pass lets it finish, then run() resolves without another pass", async () => {
    const events: string[] = [];
    const gate = deferred();
    const started = deferred();
    const loop = createLoop(
      async () => {
        events.push("pass start");
        started.resolve();
        await gate.promise;
        events.push("pass end");
      },
      { periodMs: 1, jitter: 0 },
    );
    const running = loop.run().then(() => events.push("run resolved"));
    await started.promise;
    loop.stop();
    events.push("stop requested");
    await settle();
    assert.deepEqual(events, ["pass start", "stop requested"], "the running pass is not cut short");
    gate.resolve();
    await running;
    assert.deepEqual(events, ["pass start", "stop requested", "pass end", "run resolved"]);
  });

  it("stop() during the sleep ends the loop without another pass", async () => {
    let passes = 0;
    const loop = createLoop(async () => void passes++, { periodMs: 60_000, jitter: 0.1 });
    const running = loop.run();
    await settle();
    assert.equal(passes, 1);
    loop.stop();
    await running;
    assert.equal(passes, 1);
  });

  it("pollNow() during the sleep starts the next pass at once", async () => {
    let passes = 0;
    const loop = createLoop(async () => void passes++, { periodMs: 60_000, jitter: 0.1 });
    const running = loop.run();
    try {
      await settle();
      assert.equal(passes, 1, "first pass ran, loop now sleeps a minute");
      loop.pollNow();
      await settle();
      assert.equal(passes, 2, "pollNow cut the sleep short");
      await settle();
      assert.equal(passes, 2, "and the loop sleeps again afterwards");
    } finally {
      loop.stop();
      await running;
    }
  });

  it("pollNow() during a pass skips the following sleep", async () => {
    let passes = 0;
    const loop = createLoop(
      async () => {
        passes++;
        if (passes === 1) loop.pollNow();
      },
      { periodMs: 60_000, jitter: 0.1 },
    );
    const running = loop.run();
    try {
      await settle();
      assert.equal(passes, 2);
    } finally {
      loop.stop();
      await running;
    }
  });
});
