// Staged rollout without a coordinator (--rollout-window, --rollout-key; README, "Staged rollout"): every host
// hashes its key with the gate build id into f in [0,1) and deploys from stoptime + window × f.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide } from "../../src/resolve/decide.js";
import type { RolloutPolicy } from "../../src/resolve/rollout.js";
import { rolloutFraction, rolloutNotBefore } from "../../src/resolve/rollout.js";
import { EMPTY_MEMORY, HASH, resolution, storePath } from "./builds.js";

const GATE_ID = 281734;
const HOUR = 3_600_000;

describe("rolloutFraction", () => {
  it("is in [0, 1) for many keys and gate builds", () => {
    for (let i = 0; i < 2000; i++) {
      const f = rolloutFraction(`host-${i}`, 100 + (i % 37));
      assert.ok(f >= 0 && f < 1, `rolloutFraction(host-${i}) = ${f}`);
    }
    // odd keys too: empty, unicode, very long
    for (const key of ["", "ü-host", "x".repeat(10_000), "web-1.example.com"]) {
      const f = rolloutFraction(key, GATE_ID);
      assert.ok(f >= 0 && f < 1, `${JSON.stringify(key.slice(0, 20))} -> ${f}`);
    }
  });

  it("is deterministic: the same key and gate build give the same fraction, every time", () => {
    const first = rolloutFraction("web-17", GATE_ID);
    for (let i = 0; i < 10; i++) assert.equal(rolloutFraction("web-17", GATE_ID), first);
  });

  it("differs across keys for one gate build (hosts spread out)", () => {
    const fractions = new Set(Array.from({ length: 200 }, (_, i) => rolloutFraction(`web-${i}`, GATE_ID)));
    assert.equal(fractions.size, 200);
  });

  it("differs across gate builds for one key (the order is reshuffled per build)", () => {
    const fractions = new Set(Array.from({ length: 200 }, (_, i) => rolloutFraction("web-1", GATE_ID + i)));
    assert.equal(fractions.size, 200);
    // and not by a constant shift: the early host of one build is not always early
    const order = (gate: number) =>
      Array.from({ length: 20 }, (_, i) => `web-${i}`).sort((a, b) => rolloutFraction(a, gate) - rolloutFraction(b, gate)).join(",");
    assert.notEqual(order(GATE_ID), order(GATE_ID + 1));
  });

  it("keeps the key and the build id apart (web-1 with 23 is not web-12 with 3)", () => {
    assert.notEqual(rolloutFraction("web-1", 23), rolloutFraction("web-12", 3));
    assert.notEqual(rolloutFraction("1", 11), rolloutFraction("11", 1));
  });

  it("is roughly uniform: each decile of [0,1) holds 5 % to 15 % of 1000 hosts", () => {
    const deciles = Array.from({ length: 10 }, () => 0);
    for (let i = 0; i < 1000; i++) {
      const f = rolloutFraction(`host-${i}.fleet.example`, GATE_ID);
      deciles[Math.floor(f * 10)] = (deciles[Math.floor(f * 10)] ?? 0) + 1;
    }
    for (const [i, count] of deciles.entries()) {
      assert.ok(count >= 50 && count <= 150, `decile ${i} holds ${count} of 1000: ${deciles.join(",")}`);
    }
  });
});

describe("rolloutNotBefore", () => {
  const STOPTIME = 1_700_000_900;

  it("window 0 (the default): no delay", () => {
    assert.equal(rolloutNotBefore({ windowMs: 0, key: "web-1" }, GATE_ID, STOPTIME), 0);
  });

  it("a build without a stoptime: no delay", () => {
    assert.equal(rolloutNotBefore({ windowMs: HOUR, key: "web-1" }, GATE_ID, null), 0);
  });

  for (const key of ["web-1", "web-2", "db-9", ""]) {
    it(`stoptime × 1000 + floor(window × f) for key ${JSON.stringify(key)}`, () => {
      const f = rolloutFraction(key, GATE_ID);
      const at = rolloutNotBefore({ windowMs: HOUR, key }, GATE_ID, STOPTIME);
      assert.equal(at, STOPTIME * 1000 + Math.floor(HOUR * f));
      assert.ok(at >= STOPTIME * 1000 && at < STOPTIME * 1000 + HOUR, "inside the window");
    });
  }

  it("hashes the gate build id it is given", () => {
    const policy = { windowMs: 24 * HOUR, key: "web-1" };
    const a = rolloutNotBefore(policy, GATE_ID, STOPTIME);
    const b = rolloutNotBefore(policy, GATE_ID + 1, STOPTIME);
    assert.equal(a, STOPTIME * 1000 + Math.floor(24 * HOUR * rolloutFraction("web-1", GATE_ID)));
    assert.equal(b, STOPTIME * 1000 + Math.floor(24 * HOUR * rolloutFraction("web-1", GATE_ID + 1)));
    assert.notEqual(a, b);
  });
});

describe("decide with a staged rollout", () => {
  const OFFERED = storePath(HASH.a, "app-server-1.1");
  const PREVIOUS = storePath(HASH.b, "app-server-1.0");
  const offered = resolution({ storePath: OFFERED, gateBuildId: GATE_ID, stoptime: 1_700_000_900 });
  const policy: RolloutPolicy = { windowMs: HOUR, key: "web-7" };
  const notBefore = rolloutNotBefore(policy, GATE_ID, 1_700_000_900);
  const deployedBefore = { ...EMPTY_MEMORY, lastDeployed: { storePath: PREVIOUS, buildId: 100 } };

  it("the policy really delays this key (a precondition of the cases below)", () => {
    assert.ok(notBefore > 1_700_000_900_000, `notBefore ${notBefore}`);
  });

  it("before this host's turn: wait, with the turn as an ISO time", () => {
    const decision = decide(offered, PREVIOUS, deployedBefore, new Date(notBefore - 1), policy);
    assert.equal(decision.kind, "wait");
    assert.ok(decision.kind === "wait");
    assert.equal(decision.until, new Date(notBefore).toISOString());
    assert.ok(decision.reason.includes(decision.until), decision.reason);
    assert.ok(decision.reason.includes("web-7"), `the reason names the key: ${decision.reason}`);
  });

  it("right after the gate finished: wait", () => {
    assert.equal(decide(offered, null, EMPTY_MEMORY, new Date(1_700_000_900_000), policy).kind, "wait");
  });

  it("at this host's turn: deploy", () => {
    assert.deepEqual(decide(offered, PREVIOUS, deployedBefore, new Date(notBefore), policy), { kind: "deploy" });
  });

  it("after the whole window: deploy", () => {
    assert.deepEqual(decide(offered, null, EMPTY_MEMORY, new Date(1_700_000_900_000 + HOUR), policy), { kind: "deploy" });
  });

  it("without a policy: deploy at once", () => {
    assert.deepEqual(decide(offered, PREVIOUS, deployedBefore, new Date(1_700_000_900_000), null), { kind: "deploy" });
  });

  it("a hold wins over waiting", () => {
    const held = { ...deployedBefore, hold: { reason: "bad release", until: null } };
    const decision = decide(offered, PREVIOUS, held, new Date(notBefore - 1), policy);
    assert.equal(decision.kind, "held");
  });

  it("a hold also stops a host whose turn has come", () => {
    const held = { ...deployedBefore, hold: { reason: "bad release", until: null } };
    assert.equal(decide(offered, PREVIOUS, held, new Date(notBefore + HOUR), policy).kind, "held");
  });

  it("a profile already at the offered path: none, not wait", () => {
    assert.deepEqual(decide(offered, OFFERED, deployedBefore, new Date(notBefore - 1), policy), { kind: "up-to-date" });
  });

  it("a path that failed before is skipped, not waited for", () => {
    const failed = { ...deployedBefore, failed: [{ storePath: OFFERED, reason: "activation exited 1", at: "2023-11-14T22:00:00.000Z" }] };
    const decision = decide(offered, PREVIOUS, failed, new Date(notBefore - 1), policy);
    assert.equal(decision.kind, "skip");
  });

  it("a newer gate build is decided on its own stoptime and hash: a waiting host moves straight to it", () => {
    const waiting = decide(offered, PREVIOUS, deployedBefore, new Date(notBefore - 1), policy);
    assert.equal(waiting.kind, "wait");
    const newer = resolution({ storePath: storePath(HASH.c, "app-server-1.2"), gateBuildId: GATE_ID + 10, buildId: GATE_ID + 11, stoptime: 1_700_000_000 - 7200 });
    assert.deepEqual(decide(newer, PREVIOUS, deployedBefore, new Date(notBefore - 1), policy), { kind: "deploy" });
  });

  it("--job-uri (no gate): the job's build id is hashed instead", () => {
    const job = resolution({ gateBuildId: null, buildId: 5150, stoptime: 1_700_000_900 });
    const at = 1_700_000_900_000 + Math.floor(HOUR * rolloutFraction("web-7", 5150));
    const decision = decide(job, null, EMPTY_MEMORY, new Date(at - 1), policy);
    assert.equal(decision.kind, "wait");
    assert.ok(decision.kind === "wait");
    assert.equal(decision.until, new Date(at).toISOString());
    assert.equal(decide(job, null, EMPTY_MEMORY, new Date(at), policy).kind, "deploy");
  });
});
