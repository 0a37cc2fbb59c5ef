import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLoop, firstPollDelay, jitteredDelay } from "../../src/daemon/loop.js";
import { PollRequests } from "../../src/daemon/poll-requests.js";
import { silentLog } from "../support/silent-log.js";

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

/** A fake timer: records each requested delay; `fire()` ends the pending sleep. */
function fakeSchedule() {
  const delays: number[] = [];
  let pending: (() => void) | null = null;
  return {
    delays,
    schedule: (ms: number, fire: () => void) => {
      delays.push(ms);
      pending = fire;
      return () => {
        if (pending === fire) pending = null;
      };
    },
    fire() {
      const f = pending;
      pending = null;
      f?.();
    },
  };
}

describe("firstPollDelay: a fleet restarted at once does not hit Hydra in step", () => {
  const cases: Array<[boolean, number, number]> = [
    [true, 0, 0],
    [true, 0.25, 75_000],
    [true, 0.999, 299_700],
    [false, 0.25, 0],
    [false, 0.999, 0],
  ];
  for (const [exists, r, expected] of cases) {
    it(`profile ${exists ? "exists" : "is new"}, random() = ${r}: first poll after ${expected} ms of a 5 min period`, () => {
      assert.equal(firstPollDelay(300_000, exists, () => r), expected);
    });
  }
});

describe("createLoop: the first pass and poll-now requests", () => {
  it("waits firstDelayMs before the first pass, then the jittered period", async () => {
    const timers = fakeSchedule();
    let passes = 0;
    const loop = createLoop(async () => void passes++, { periodMs: 60_000, jitter: 0.1, random: () => 0.5, firstDelayMs: 12_345, schedule: timers.schedule });
    const running = loop.run();
    await settle();
    assert.equal(passes, 0, "no pass before the first delay");
    assert.deepEqual(timers.delays, [12_345]);
    timers.fire();
    await settle();
    assert.equal(passes, 1);
    assert.deepEqual(timers.delays, [12_345, 60_000], "then the period with its jitter");
    loop.stop();
    await running;
  });

  it("pollNow() during the first delay polls at once", async () => {
    const timers = fakeSchedule();
    let passes = 0;
    const loop = createLoop(async () => void passes++, { periodMs: 60_000, jitter: 0, firstDelayMs: 50_000, schedule: timers.schedule });
    const running = loop.run();
    await settle();
    assert.deepEqual(loop.pollNow(), { kind: "accepted" });
    await settle();
    assert.equal(passes, 1);
    loop.stop();
    await running;
  });

  it("coalesces: a request while an extra pass is pending is absorbed; one extra pass per minimum interval", async () => {
    const timers = fakeSchedule();
    let clock = 1_000_000;
    let passes = 0;
    const loop = createLoop(async () => void passes++, { periodMs: 3_600_000, jitter: 0, minPollIntervalMs: 10_000, now: () => clock, schedule: timers.schedule });
    const running = loop.run();
    await settle();
    assert.equal(passes, 1, "the first pass ran; the loop sleeps an hour");

    assert.deepEqual(loop.pollNow(), { kind: "accepted" });
    assert.deepEqual(loop.pollNow(), { kind: "absorbed" }, "pending: absorbed");
    await settle();
    assert.equal(passes, 2, "one extra pass for both requests");
    assert.equal(timers.delays.at(-1), 3_600_000, "then the loop sleeps the period again");

    clock += 4_000;
    assert.deepEqual(loop.pollNow(), { kind: "rejected", retryAfterMs: 6_000 }, "within the interval: refused");
    await settle();
    assert.equal(passes, 2);

    clock += 6_000;
    assert.deepEqual(loop.pollNow(), { kind: "accepted" }, "once the interval has passed: accepted");
    await settle();
    assert.equal(passes, 3);
    loop.stop();
    await running;
  });

  /** A loop whose second pass (the first extra one) waits for release(). */
  async function loopWithBlockedExtraPass(clock: { now: number }) {
    const timers = fakeSchedule();
    let passes = 0;
    let release: () => void = () => assert.fail("the extra pass has not started");
    const loop = createLoop(
      async () => {
        passes++;
        if (passes === 2) await new Promise<void>((r) => (release = r));
      },
      { periodMs: 3_600_000, jitter: 0, minPollIntervalMs: 10_000, now: () => clock.now, schedule: timers.schedule },
    );
    const running = loop.run();
    await settle();
    assert.deepEqual(loop.pollNow(), { kind: "accepted" });
    await settle();
    assert.equal(passes, 2, "the extra pass is running");
    return { loop, running, timers, passes: () => passes, release: () => release() };
  }

  it("a request while an extra pass is running (which may have asked Hydra before it) makes one more pass after it", async () => {
    const clock = { now: 1_000_000 };
    const t = await loopWithBlockedExtraPass(clock);
    clock.now += 10_000;
    assert.deepEqual(t.loop.pollNow(), { kind: "accepted" }, "running, and the interval has passed: accepted");
    for (let i = 0; i < 1_000; i++) assert.deepEqual(t.loop.pollNow(), { kind: "absorbed" }, "the pass after it is pending: absorbed");
    t.release();
    await settle();
    assert.equal(t.passes(), 3, "one more pass right after the running one, for all 1,001 requests");
    assert.equal(t.timers.delays.at(-1), 3_600_000, "then the loop sleeps the period");
    t.loop.stop();
    await t.running;
  });

  it("a request while an extra pass is running, within the minimum interval, is refused with the time left", async () => {
    const clock = { now: 1_000_000 };
    const t = await loopWithBlockedExtraPass(clock);
    clock.now += 3_000;
    assert.deepEqual(t.loop.pollNow(), { kind: "rejected", retryAfterMs: 7_000 }, "not absorbed by a pass that may have asked Hydra before it");
    t.release();
    await settle();
    assert.equal(t.passes(), 2, "no pass of its own");
    assert.equal(t.timers.delays.at(-1), 3_600_000, "the loop sleeps the period");
    t.loop.stop();
    await t.running;
  });

  it("a flood of 10,000 requests makes one extra pass", async () => {
    const timers = fakeSchedule();
    let passes = 0;
    const loop = createLoop(async () => void passes++, { periodMs: 3_600_000, jitter: 0, minPollIntervalMs: 10_000, now: () => 5_000_000, schedule: timers.schedule });
    const running = loop.run();
    await settle();
    const answers = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const { kind } = loop.pollNow();
      answers.set(kind, (answers.get(kind) ?? 0) + 1);
      if (i % 1000 === 0) await settle();
    }
    await settle();
    assert.equal(passes, 2, "the first pass and one extra");
    assert.equal(answers.get("accepted"), 1);
    assert.equal((answers.get("absorbed") ?? 0) + (answers.get("rejected") ?? 0), 9_999);
    loop.stop();
    await running;
  });
});

describe("PollRequests: what became of poll requests, logged at most once a minute", () => {
  it("logs an accepted request, counts refused ones, and sums them up at most once a minute", () => {
    const lines: string[] = [];
    const log = { ...silentLog, info: (m: string) => void lines.push(`info ${m}`), warn: (m: string) => void lines.push(`warn ${m}`) };
    let clock = 0;
    const requests = new PollRequests(log, 10_000, () => clock);
    requests.note("POST /poll", { kind: "accepted" });
    for (let i = 0; i < 500; i++) requests.note("POST /poll", { kind: "rejected", retryAfterMs: 1_000 });
    for (let i = 0; i < 300; i++) requests.note("POST /poll", { kind: "absorbed" });
    clock += 59_999;
    requests.note("POST /poll", { kind: "rejected", retryAfterMs: 1_000 });
    assert.equal(lines.length, 2, lines.join("\n"));
    clock += 1;
    requests.note("POST /poll", { kind: "rejected", retryAfterMs: 1_000 });
    assert.equal(requests.rejectedTotal, 502);
    assert.deepEqual(lines.map((l) => l.split(":")[0]), ["info POST /poll", "warn POST /poll", "warn POST /poll"]);
    assert.match(lines[1] ?? "", /refused 1 poll request\(s\) and absorbed 0 .*--poll-min-interval 10s/);
    assert.match(lines[2] ?? "", /refused 501 poll request\(s\) and absorbed 300/);
  });
});
