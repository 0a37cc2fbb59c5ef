// The rollback's log lines name both builds (issue 22, point 7): the build that failed and the
// one rolled back to, in the message and in the fields; the lines of the rollback (its
// activation too) carry the build rolled back to as buildId. The built CLI, real Nix, the Hydra
// test server.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FAILING_ACTIVATION, greenGate, publishedApps, worldAtGreenGate, type World } from "./world.js";

describe("rollback log lines", () => {
  let w: World;
  let good: string;
  let bad: string;

  before(async () => {
    ({ world: w, apps: [good] } = await worldAtGreenGate("1"));
    [bad] = (await publishedApps(w.lab, { name: "myapp", version: "2", activate: FAILING_ACTIVATION })) as [string];
  });
  after(() => w.close());

  it("name the failed build 201 and build 101 rolled back to; the rollback's lines carry build 101", async () => {
    const first = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--log-format", "json"]);
    assert.equal(first.code, 0, first.stderr);
    for (const b of greenGate(200, 20, bad)) w.hydra.addBuild(b);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--log-format", "json"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(await w.profileTarget("myapp"), good);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    const start = lines.findIndex((l) => String(l.msg).startsWith("rolling back "));
    assert.ok(start >= 0, r.stderr);
    const rolling = lines[start] as Record<string, unknown>;
    assert.match(String(rolling.msg), new RegExp(`^rolling back \\S+/myapp from build 201 \\(${bad}\\) to generation 1, build 101 \\(${good}\\)$`));
    assert.deepEqual(
      { buildId: rolling.buildId, storePath: rolling.storePath, failedBuildId: rolling.failedBuildId, failedStorePath: rolling.failedStorePath },
      { buildId: 101, storePath: good, failedBuildId: 201, failedStorePath: bad },
    );
    const done = lines.findIndex((l) => String(l.msg).startsWith("rolled back "));
    assert.ok(done > start, r.stderr);
    assert.match(String(lines[done]?.msg), new RegExp(`^rolled back \\S+/myapp to build 101 \\(${good}\\); build 201 \\(${bad}\\) failed$`));
    // everything the rollback logged, the re-activation of build 101 included
    const rollback = lines.slice(start, done + 1);
    assert.ok(rollback.some((l) => l.source === "activation"), "the re-activation's output is among them");
    assert.deepEqual([...new Set(rollback.map((l) => l.buildId))], [101], r.stderr);
  });
});
