// `hail plan --config FILE` for a fleet's worth of targets, with the built CLI against the
// Hydra test server and the real Nix lab's binary cache: one resolution per gate per run (as
// the daemon shares a poll round), the whole --json object however long it is, a markdown
// table for CI summaries, and --detailed-exitcode.
import assert from "node:assert/strict";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { apiRequestCounts, createWorld, greenGate, publishedApps, type World } from "./world.js";

const TARGETS = 300;

describe("hail plan --config with many targets", () => {
  let w: World;
  let app: string;
  let file: string;
  let profilesDir: string;

  before(async () => {
    w = await createWorld();
    [app] = (await publishedApps(w.lab, { name: "myapp", version: "1" })) as [string];
    for (const b of greenGate(100, 10, app)) w.hydra.addBuild(b);
    // a second gate in another jobset, and a plain job
    for (const b of greenGate(300, 30, app)) w.hydra.addBuild({ ...b, jobset: "staging" });
    profilesDir = path.join(w.lab.root, "fleet-profiles");
    await mkdir(profilesDir, { recursive: true });
    const targets = Array.from({ length: TARGETS }, (_, i) => ({
      profile: `app${String(i).padStart(4, "0")}`,
      gateJob: i % 3 === 2 ? `${w.hydra.url}/job/myproject/staging/release_gate` : w.gateUrl,
      constituent: "myapp",
    }));
    file = path.join(w.lab.root, "fleet.json");
    await writeFile(file, JSON.stringify({ profilesDir, stateDir: path.join(w.lab.root, "fleet-state"), logFormat: "json", targets }));
  });
  after(() => w.close());

  it("--json: every target in one whole object; each gate is resolved once for the run, each narinfo read once", async () => {
    w.hydra.resetRequests();
    const r = await w.hail(["plan", "--config", file, "--json"]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    // far more than a pipe holds at once: the output must not be cut off at exit
    assert.ok(r.stdout.length > 200_000, `${r.stdout.length} bytes`);
    const plan = JSON.parse(r.stdout) as { targets: { profile: { name: string }; action: string; buildId: number; changes: { sizes: { known: boolean } } | null }[] };
    assert.equal(plan.targets.length, TARGETS);
    assert.deepEqual(new Set(plan.targets.map((t) => t.action)), new Set(["deploy"]));
    assert.deepEqual(plan.targets.slice(0, 3).map((t) => t.buildId), [101, 101, 301]);
    assert.ok(plan.targets.every((t) => t.changes?.sizes.known === true), "sizes came from the lab's cache");
    const counts = apiRequestCounts(w.hydra);
    assert.deepEqual(Object.fromEntries(counts), Object.fromEntries([...counts.keys()].map((p) => [p, 1])), "no Hydra request twice");
    assert.equal(counts.get("/job/myproject/main/release_gate/latest-finished"), 1);
    assert.equal(counts.get("/job/myproject/staging/release_gate/latest-finished"), 1);
    const narinfos = w.hydra.requests.filter((q) => q.path.endsWith(".narinfo")).map((q) => q.path);
    assert.ok(narinfos.length > 0);
    assert.equal(new Set(narinfos).size, narinfos.length, "each narinfo read once for all targets");
  });

  it("--format markdown: a table row per target with current, offered, action and download size", async () => {
    const current = path.join(profilesDir, "app0001");
    await symlink(app, current);
    try {
      const r = await w.hail(["plan", "--config", file, "--format", "markdown"]);
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      const lines = r.stdout.trimEnd().split("\n");
      assert.equal(lines[0], `### hail plan: ${TARGETS - 1} deploy, 1 none`);
      assert.equal(lines[2], "| target | current | offered | action | download |");
      const rows = lines.slice(4);
      assert.equal(rows.length, TARGETS);
      const name = path.basename(app);
      const short = `${name.slice(0, 8)}…${name.slice(32)}`;
      const [first, second, third] = rows;
      assert.match(first ?? "", new RegExp(`^\\| app0000 \\| \\(none\\) \\| \`${short}\` \\(build 101, gate 100\\) \\| \\*\\*deploy\\*\\* \\| \\d+(\\.\\d+)? (B|KiB) \\(1 of 1 paths\\) \\|$`));
      assert.equal(second, `| app0001 | \`${short}\` | \`${short}\` (build 101, gate 100) | **none** |  |`);
      assert.match(third ?? "", /^\| app0002 \| \(none\) \| `.*` \(build 301, gate 300\) \| \*\*deploy\*\* \|/);
    } finally {
      await rm(current);
    }
  });

  it("--detailed-exitcode: 2 when any target would change, 0 when none would", async () => {
    const all = await w.hail(["plan", "--config", file, "--format", "markdown", "--detailed-exitcode"]);
    assert.equal(all.code, 2, all.stderr.slice(-2000));
    const one = path.join(w.lab.root, "one.json");
    await writeFile(one, JSON.stringify({ profilesDir, stateDir: path.join(w.lab.root, "fleet-state"), targets: [{ profile: "app0001", gateJob: w.gateUrl, constituent: "myapp" }] }));
    await symlink(app, path.join(profilesDir, "app0001")).catch(() => undefined);
    const none = await w.hail(["plan", "--config", one, "--json", "--detailed-exitcode"]);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual((JSON.parse(none.stdout) as { targets: { action: string }[] }).targets.map((t) => t.action), ["none"]);
  });

  it("--json with --format markdown disagree: exit 64; an unknown --format too", async () => {
    const both = await w.hail(["plan", "--config", file, "--json", "--format", "markdown"]);
    assert.equal(both.code, 64);
    assert.match(both.stderr, /--json and --format markdown disagree/);
    const bad = await w.hail(["plan", "--config", file, "--format", "yaml"]);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /--format yaml: use one of text, json, markdown/);
  });
});
