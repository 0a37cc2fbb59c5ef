import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Decision, DeployMemory } from "../../src/resolve/decide.js";
import { decide } from "../../src/resolve/decide.js";
import { EMPTY_MEMORY, HASH, resolution, storePath } from "./builds.js";

const NOW = new Date("2025-03-01T12:00:00Z");
const OFFERED = storePath(HASH.a, "app-1.1");
const PREVIOUS = storePath(HASH.b, "app-1.0");
const BY_HAND = storePath(HASH.c, "app-0.9");

function memory(fields: Partial<DeployMemory> = {}): DeployMemory {
  return { ...EMPTY_MEMORY, ...fields };
}

const deployedBefore = (path: string) => ({ lastDeployed: { storePath: path, buildId: 100 } });
const failedAt = (path: string) => ({ failed: [{ storePath: path, reason: "activation exited 3", at: "2025-03-01T11:00:00.000Z" }] });

describe("decide", () => {
  // [what, current profile target, memory, expected kind, fragments of the reason]
  const cases: Array<[string, string | null, DeployMemory, Decision["kind"], string[]]> = [
    ["profile already at the offered path", OFFERED, memory(), "up-to-date", []],
    ["profile at another path", PREVIOUS, memory(deployedBefore(PREVIOUS)), "deploy", []],
    ["no profile and no history", null, memory(), "deploy", []],
    ["held without end", PREVIOUS, memory({ hold: { reason: "db migration", until: null } }), "held", ["held", "db migration", "hail release"]],
    [
      "held until a future time",
      PREVIOUS,
      memory({ hold: { reason: null, until: "2025-03-01T13:00:00.000Z" } }),
      "held",
      ["until 2025-03-01T13:00:00.000Z", "hail release"],
    ],
    ["held even when current", OFFERED, memory({ hold: { reason: null, until: null } }), "held", ["held"]],
    ["hold expired", PREVIOUS, memory({ hold: { reason: "x", until: "2025-03-01T11:59:59.000Z" } }), "deploy", []],
    ["hold ending exactly now is over", PREVIOUS, memory({ hold: { reason: "x", until: NOW.toISOString() } }), "deploy", []],
    ["hold expired, profile current", OFFERED, memory({ hold: { reason: "x", until: "2025-01-01T00:00:00.000Z" } }), "up-to-date", []],
    ["offered path failed before", PREVIOUS, memory(failedAt(OFFERED)), "skip", [OFFERED, "failed", "activation exited 3", "2025-03-01T11:00:00.000Z", "different path"]],
    ["another path failed before", PREVIOUS, memory(failedAt(BY_HAND)), "deploy", []],
    // --no-rollback left the failed path in the profile: that is not "up to date"
    ["failed path left in the profile (--no-rollback)", OFFERED, memory(failedAt(OFFERED)), "skip", [OFFERED, "release --clear-failed"]],
    [
      "moved by hand, Hydra still offers what hail last deployed",
      BY_HAND,
      memory(deployedBefore(OFFERED)),
      "skip",
      ["outside hail", BY_HAND, OFFERED],
    ],
    ["moved by hand, Hydra offers a different path", BY_HAND, memory(deployedBefore(PREVIOUS)), "deploy", []],
    // A missing profile (reinstalled machine, restored state dir) is deployed again: holding
    // deployments is what `hail hold` is for.
    ["no profile, hail last deployed the offered path", null, memory(deployedBefore(OFFERED)), "deploy", []],
    ["no profile, hail last deployed another path", null, memory(deployedBefore(PREVIOUS)), "deploy", []],
  ];

  for (const [what, current, mem, kind, fragments] of cases) {
    it(`${what} -> ${kind}`, () => {
      const decision = decide(resolution({ storePath: OFFERED }), current, mem, NOW);
      assert.equal(decision.kind, kind);
      if (decision.kind === "skip" || decision.kind === "held") {
        for (const fragment of fragments) {
          assert.ok(decision.reason.includes(fragment), `${JSON.stringify(fragment)} not in: ${decision.reason}`);
        }
      } else {
        assert.deepEqual(decision, { kind });
      }
    });
  }

  it("the hold is checked before the failed list", () => {
    const mem = memory({ ...failedAt(OFFERED), hold: { reason: null, until: null } });
    assert.equal(decide(resolution({ storePath: OFFERED }), PREVIOUS, mem, NOW).kind, "held");
  });
});

describe("decide: never backwards", () => {
  const SOURCE = "https://hydra.example/job/acme/production/release_gate constituent app-server output out";
  const policy = { source: SOURCE, allowDowngrade: false };
  const lastDeployed = (gateBuildId: number | null, buildId = 281835, source = SOURCE) => ({
    lastDeployed: { storePath: PREVIOUS, buildId, gateBuildId, source },
  });
  const offered = resolution({ gateBuildId: 281734, buildId: 281735, storePath: OFFERED });

  it("an older gate build than the one deployed: stay, naming both ids", () => {
    const decision = decide(offered, PREVIOUS, memory(lastDeployed(281834)), NOW, null, policy);
    assert.equal(decision.kind, "stay");
    assert.ok(decision.kind === "stay");
    assert.deepEqual([decision.offeredId, decision.deployedId], [281734, 281834]);
    for (const fragment of ["gate build 281734", "gate build 281834", "--allow-downgrade"]) {
      assert.ok(decision.reason.includes(fragment), `${fragment} not in: ${decision.reason}`);
    }
  });

  it("--allow-downgrade follows Hydra back", () => {
    assert.equal(decide(offered, PREVIOUS, memory(lastDeployed(281834)), NOW, null, { ...policy, allowDowngrade: true }).kind, "deploy");
  });

  it("the same or a newer gate build is not held back", () => {
    assert.equal(decide(offered, PREVIOUS, memory(lastDeployed(281734)), NOW, null, policy).kind, "deploy");
    assert.equal(decide(offered, PREVIOUS, memory(lastDeployed(281700)), NOW, null, policy).kind, "deploy");
  });

  it("an older gate build whose path the profile already has: nothing to do, not stay", () => {
    assert.equal(decide(offered, OFFERED, memory(lastDeployed(281834)), NOW, null, policy).kind, "up-to-date");
  });

  it("another target's history does not count (changed flags)", () => {
    const other = memory(lastDeployed(281834, 281835, "https://hydra.example/job/acme/staging/release_gate constituent app-server output out"));
    assert.equal(decide(offered, PREVIOUS, other, NOW, null, policy).kind, "deploy");
  });

  it("--job-uri: the job's own build ids", () => {
    const job = resolution({ gateBuildId: null, buildId: 700, storePath: OFFERED });
    const decision = decide(job, PREVIOUS, memory(lastDeployed(null, 705)), NOW, null, policy);
    assert.ok(decision.kind === "stay" && decision.reason.includes("build 700") && decision.reason.includes("build 705"));
    assert.equal(decide(job, PREVIOUS, memory(lastDeployed(null, 690)), NOW, null, policy).kind, "deploy");
  });

  it("a hold still wins", () => {
    const mem = memory({ ...lastDeployed(281834), hold: { reason: null, until: null } });
    assert.equal(decide(offered, PREVIOUS, mem, NOW, null, policy).kind, "held");
  });
});
