// Disk hygiene and operator comfort end to end, with the built CLI, the Hydra test server
// (which also serves the lab's binary cache) and real Nix: what `plan` says will change,
// --min-free, --keep-generations, --on-success/--on-failure hooks, and holds that expire.
import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HydraTestServer } from "../support/hydra-server.js";
import { createWorld, greenGate, killPids, publishedApps, waitUntil, worldAtGreenGate, type World } from "./world.js";

interface Sizes {
  known: boolean;
  reason?: string;
  paths?: number;
  closureSize?: number;
  missingPaths?: number;
  downloadSize?: number;
  unpackedSize?: number;
}
interface PlanJson {
  action: string;
  reason: string | null;
  storePath: string;
  currentPath: string | null;
  changes: { sizes: Sizes; closureDiff: { changes: { name: string; change: string }[] } | { unavailable: string } } | null;
}
interface StatusJson {
  failed: unknown[];
  hold: { reason: string | null; since: string; until: string | null } | null;
  lastAttempt: unknown;
}

function parsePlan(stdout: string): PlanJson {
  return JSON.parse(stdout) as PlanJson;
}

/** The narinfo the test server serves for a store path, as Nix would fetch it. */
async function narinfoOf(w: World, storePath: string): Promise<{ fileSize: number; narSize: number; references: string[] }> {
  const hash = path.basename(storePath).slice(0, 32);
  const res = await fetch(`${w.hydra.url}/${hash}.narinfo`);
  assert.equal(res.status, 200, `the cache serves ${hash}.narinfo`);
  const text = await res.text();
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(text)?.[1];
  return {
    fileSize: Number(field("FileSize")),
    narSize: Number(field("NarSize")),
    references: (field("References") ?? "").split(" ").filter(Boolean),
  };
}

/** FileSize and NarSize summed over the closure, walked through the served narinfo files. */
async function cacheTotals(w: World, storePath: string): Promise<{ paths: number; fileSize: number; narSize: number }> {
  const seen = new Set<string>();
  const queue = [storePath];
  let fileSize = 0;
  let narSize = 0;
  while (queue.length > 0) {
    const p = queue.shift() as string;
    if (seen.has(p)) continue;
    seen.add(p);
    const info = await narinfoOf(w, p);
    fileSize += info.fileSize;
    narSize += info.narSize;
    queue.push(...info.references.map((r) => `/nix/store/${r}`));
  }
  return { paths: seen.size, fileSize, narSize };
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Alive and not a zombie. */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

// ---- 1. plan shows what will change ----

describe("plan shows download and closure sizes and the closure diff", () => {
  let w: World;
  let app1: string;
  let app2: string;

  before(async () => {
    ({ world: w, apps: [app1, app2] } = await worldAtGreenGate("1", "2"));
  });
  after(() => w.close());

  it("plan --json reports the sizes the cache's narinfo gives for the pending path, and runs no nix command", async () => {
    const calls = await w.nixCalls();
    w.hydra.resetRequests();
    const r = await w.hail(["plan", ...w.gateArgs("sized"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const plan = parsePlan(r.stdout);
    assert.equal(plan.action, "deploy");
    assert.equal(plan.storePath, app1);
    const sizes = plan.changes?.sizes;
    assert.ok(sizes?.known, `sizes are known: ${JSON.stringify(plan.changes)}`);
    const expected = await cacheTotals(w, app1);
    assert.ok((sizes.paths ?? 0) >= 1);
    assert.equal(sizes.paths, expected.paths);
    assert.ok((sizes.downloadSize ?? 0) > 0 && (sizes.closureSize ?? 0) > 0);
    assert.equal(sizes.closureSize, expected.narSize, "closure size = NarSize over the closure");
    assert.equal(sizes.downloadSize, expected.fileSize, "download = FileSize of what is not local (all of it)");
    assert.equal(sizes.unpackedSize, expected.narSize);
    assert.equal(sizes.missingPaths, expected.paths);
    const hash = path.basename(app1).slice(0, 32);
    assert.ok(w.hydra.requests.some((q) => q.path === `/${hash}.narinfo`), "plan read the narinfo from the cache NIX_CONFIG names");
    assert.deepEqual(await w.nixCalls(), calls, "plan ran no nix command for the sizes");
    assert.deepEqual(plan.changes?.closureDiff, { unavailable: "no current generation to compare with" });
    assert.equal(await w.profileTarget("sized"), null);
  });

  it("the text plan has a download: line with the sizes", async () => {
    const expected = await cacheTotals(w, app1);
    const r = await w.hail(["plan", ...w.gateArgs("sized")]);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split("\n").find((l) => l.startsWith("download:"));
    assert.ok(line, `a download: line in\n${r.stdout}`);
    assert.match(line, new RegExp(`\\(${expected.paths} of ${expected.paths} paths\\)`));
    assert.match(line, /unpacked; closure \d/);
    assert.doesNotMatch(line, /unknown/);
  });

  it("with the cache unreachable, sizes are unknown with a reason and plan still succeeds", async () => {
    const port = await closedPort();
    const env = { NIX_CONFIG: w.lab.envFor(`http://127.0.0.1:${port}`).NIX_CONFIG };
    const json = await w.hail(["plan", ...w.gateArgs("sized"), "--json"], env);
    assert.equal(json.code, 0, json.stderr);
    const plan = parsePlan(json.stdout);
    assert.equal(plan.action, "deploy", "Hydra still answered");
    assert.equal(plan.changes?.sizes.known, false);
    assert.match(plan.changes?.sizes.reason ?? "", /cannot read the binary cache/);
    assert.equal(plan.changes?.sizes.downloadSize, undefined, "no made-up numbers");

    const detailed = await w.hail(["plan", ...w.gateArgs("sized"), "--detailed-exitcode"], env);
    assert.equal(detailed.code, 2, "still a pending deployment, not an error");
    assert.match(detailed.stdout, /^download: +unknown \(cannot read the binary cache/m);
  });

  it("with a cache that lacks the path, sizes are unknown naming the path", async () => {
    const empty = await HydraTestServer.start();
    try {
      const r = await w.hail(["plan", ...w.gateArgs("sized"), "--json"], { NIX_CONFIG: w.lab.envFor(empty.url).NIX_CONFIG });
      assert.equal(r.code, 0, r.stderr);
      const sizes = parsePlan(r.stdout).changes?.sizes;
      assert.equal(sizes?.known, false);
      assert.ok(sizes?.reason?.includes(app1), sizes?.reason);
      assert.ok(sizes?.reason?.includes(empty.url), sizes?.reason);
    } finally {
      await empty.close();
    }
  });

  it("with no cache configured, sizes are unknown", async () => {
    const r = await w.hail(["plan", ...w.gateArgs("sized"), "--json"], { NIX_CONFIG: "substituters =" });
    assert.equal(r.code, 0, r.stderr);
    const sizes = parsePlan(r.stdout).changes?.sizes;
    assert.equal(sizes?.known, false);
    assert.match(sizes?.reason ?? "", /no binary cache/);
  });

  it("closure diff: unavailable while v2 is not local, shown after plan --fetch, which does not switch the profile", async () => {
    const deployed = await w.hail([...w.gateArgs("diffed"), "--oneshot"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal(await w.profileTarget("diffed"), app1);
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);

    const calls = await w.nixCalls();
    const activations = await w.activations();
    const state = await w.readState("diffed");

    const pending = await w.hail(["plan", ...w.gateArgs("diffed"), "--json"]);
    assert.equal(pending.code, 0, pending.stderr);
    const plan = parsePlan(pending.stdout);
    assert.equal(plan.action, "deploy");
    assert.equal(plan.currentPath, app1);
    const diff = plan.changes?.closureDiff;
    assert.ok(diff && "unavailable" in diff, JSON.stringify(diff));
    assert.match(diff.unavailable, /not in the local store/);
    assert.match(diff.unavailable, /--fetch/);
    assert.equal(plan.changes?.sizes.missingPaths, 1, "v2 must be downloaded");
    const text = await w.hail(["plan", ...w.gateArgs("diffed")]);
    assert.match(text.stdout, /^changes: +unknown \(.*--fetch/m);
    assert.deepEqual(await w.nixCalls(), calls, "without --fetch, plan runs no nix command");

    const fetched = await w.hail(["plan", ...w.gateArgs("diffed"), "--fetch", "--json"]);
    assert.equal(fetched.code, 0, fetched.stderr);
    const afterFetch = parsePlan(fetched.stdout);
    const changes = afterFetch.changes?.closureDiff;
    assert.ok(changes && "changes" in changes, JSON.stringify(changes));
    assert.ok(
      changes.changes.some((c) => c.name === "myapp" && c.change === "1 → 2"),
      `myapp: 1 → 2 in ${JSON.stringify(changes.changes)}`,
    );
    const newCalls = (await w.nixCalls()).slice(calls.length);
    assert.ok(newCalls.includes(`nix-store --realise ${app2} --max-jobs 0`), `plan --fetch realised v2: ${newCalls.join("; ")}`);
    assert.ok(newCalls.some((c) => c.includes("store diff-closures") && c.includes(app1) && c.includes(app2)), newCalls.join("; "));
    assert.ok(!newCalls.some((c) => c.startsWith("nix-env")), "plan --fetch never switches the profile");
    assert.equal(await w.profileTarget("diffed"), app1, "the profile is not switched");
    assert.deepEqual(await w.generations("diffed"), [1]);
    assert.deepEqual(await w.activations(), activations, "nothing activated");
    assert.deepEqual(await w.readState("diffed"), state, "plan --fetch writes no state");
  });

  it("once v2 is local, plain plan shows the diff and nothing left to download", async () => {
    const r = await w.hail(["plan", ...w.gateArgs("diffed"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const plan = parsePlan(r.stdout);
    const diff = plan.changes?.closureDiff;
    assert.ok(diff && "changes" in diff, JSON.stringify(diff));
    assert.deepEqual(diff.changes.find((c) => c.name === "myapp"), { name: "myapp", change: "1 → 2" });
    const sizes = plan.changes?.sizes;
    assert.ok(sizes?.known);
    assert.equal(sizes.missingPaths, 0);
    assert.equal(sizes.downloadSize, 0);
    assert.equal(sizes.closureSize, (await cacheTotals(w, app2)).narSize);

    const text = await w.hail(["plan", ...w.gateArgs("diffed")]);
    assert.match(text.stdout, /^changes:\n {2}myapp: 1 → 2$/m);
    assert.match(text.stdout, /^download: +0 B \(0 of \d+ paths\)/m);
  });
});

// ---- 2. --min-free ----

describe("--min-free: refuse to fill the disk", () => {
  let w: World;
  let app1: string;
  let app2: string;

  before(async () => {
    ({ world: w, apps: [app1, app2] } = await worldAtGreenGate("1", "2"));
  });
  after(() => w.close());

  it("--min-free 100000TiB: exit 1 naming the store and --min-free, nothing realised, no failure mark", async () => {
    const calls = await w.nixCalls();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--min-free", "100000TiB"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /disk space/);
    assert.ok(r.stderr.includes("/nix/store"), `names the store dir:\n${r.stderr}`);
    assert.ok(r.stderr.includes("--min-free"), `names --min-free:\n${r.stderr}`);
    assert.equal(await w.profileTarget("myapp"), null, "the profile is untouched");
    const newCalls = (await w.nixCalls()).slice(calls.length);
    assert.deepEqual(newCalls, [`nix-store --realise --dry-run ${app1}`], "only the dry run ran");
    assert.deepEqual(await w.activations(), []);

    const status = await w.hail(["status", "myapp", "--json", ...w.manageArgs()]);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual((JSON.parse(status.stdout) as StatusJson).failed, [], "not marked as a failed build");
  });

  it("the next --oneshot without the flag (default 1GiB) checks, then deploys", async () => {
    const calls = await w.nixCalls();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
    const newCalls = (await w.nixCalls()).slice(calls.length);
    assert.deepEqual(newCalls.slice(0, 2), [`nix-store --realise --dry-run ${app1}`, `nix-store --realise ${app1} --max-jobs 0`]);
  });

  it("--min-free 0 skips the dry run entirely", async () => {
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    const calls = await w.nixCalls();
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--min-free", "0"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app2);
    const newCalls = (await w.nixCalls()).slice(calls.length);
    assert.ok(!newCalls.some((c) => c.includes("--dry-run")), newCalls.join("; "));
    assert.ok(newCalls.includes(`nix-store --realise ${app2} --max-jobs 0`));
  });

  it("an unreadable --min-free is a usage error (64)", async () => {
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--min-free", "lots"]);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /--min-free/);
  });
});

// ---- 3. --keep-generations ----

describe("--keep-generations", () => {
  let w: World;
  let apps: string[];

  before(async () => {
    w = await createWorld();
    apps = await publishedApps(
      w.lab,
      { name: "myapp", version: "1" },
      { name: "myapp", version: "2" },
      { name: "myapp", version: "3" },
      { name: "myapp", version: "4" },
      { name: "myapp", version: "5", activate: 'echo "v5 refuses to start" >&2; exit 3' },
      { name: "myapp", version: "6" },
    );
  });
  after(() => w.close());

  const gateFor = (version: number) => {
    for (const b of greenGate(version * 100, version * 10, apps[version - 1] as string)) w.hydra.addBuild(b);
  };

  it("keep 2 over four deployments leaves generations 3 and 4; without the flag all four stay", async () => {
    for (let v = 1; v <= 4; v++) {
      gateFor(v);
      const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--keep-generations", "2"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await w.profileTarget("myapp"), apps[v - 1]);
      const all = await w.hail([...w.gateArgs("keepall"), "--oneshot"]);
      assert.equal(all.code, 0, all.stderr);
    }
    assert.deepEqual(await w.generations("myapp"), [3, 4]);
    assert.equal(await w.currentGeneration("myapp"), 4);
    assert.equal(await w.profileTarget("myapp"), apps[3]);
    assert.deepEqual(await w.generations("keepall"), [1, 2, 3, 4], "the default keeps every generation");
  });

  it("a failed deployment deletes nothing: the rollback target (4) stays, and is current", async () => {
    gateFor(5);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--keep-generations", "1"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(await w.currentGeneration("myapp"), 4);
    assert.equal(await w.profileTarget("myapp"), apps[3]);
    const gens = await w.generations("myapp");
    assert.ok(gens.includes(4), `generation 4 is still there: ${gens.join(",")}`);
    assert.deepEqual(gens, [3, 4, 5], "nothing is pruned after a failure");
  });

  it("keep 1 after a success still keeps the rollback target", async () => {
    gateFor(6);
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", "--keep-generations", "1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), apps[5]);
    assert.equal(await w.currentGeneration("myapp"), 6);
    assert.deepEqual(await w.generations("myapp"), [4, 6], "3 and the failed 5 go; 4, the generation before this attempt, stays");
  });

  it("--keep-generations 0 or a word is a usage error (64)", async () => {
    for (const bad of ["0", "two", "-1", "1.5"]) {
      const r = await w.hail([...w.gateArgs("myapp"), "--oneshot", `--keep-generations=${bad}`]);
      assert.equal(r.code, 64, `--keep-generations ${bad}: ${r.stderr}`);
    }
  });
});

// ---- 4. hooks ----

const HOOK_SCRIPT = `#!/bin/sh
mkdir -p "$HOOK_OUT"
for v in HAIL_PROFILE HAIL_RESULT HAIL_STORE_PATH HAIL_BUILD_ID HAIL_ERROR; do
  eval "printf '%s' \\"\\\${$v-<unset>}\\"" > "$HOOK_OUT/$v"
done
printf '%s\\n' "$@" > "$HOOK_OUT/args"
echo "hook $HAIL_RESULT" >> "$HAIL_TEST_ACTIVATION_LOG"
echo "hook says hello"
exit "\${HOOK_EXIT:-0}"
`;

const HANG_SCRIPT = `#!/bin/sh
sleep 60 &
echo $! > "$HOOK_PID"
wait
`;

describe("--on-success / --on-failure hooks", () => {
  let w: World;
  let app1: string;
  let app2: string;
  let hook: string;
  let hang: string;
  const started: number[] = [];

  before(async () => {
    w = await createWorld();
    [app1, app2] = (await publishedApps(
      w.lab,
      { name: "myapp", version: "1" },
      { name: "myapp", version: "2", activate: 'echo "v2 refuses to start" >&2; exit 3' },
    )) as [string, string];
    hook = path.join(w.lab.root, "hook.sh");
    hang = path.join(w.lab.root, "hang.sh");
    await writeFile(hook, HOOK_SCRIPT);
    await writeFile(hang, HANG_SCRIPT);
    await chmod(hook, 0o755);
    await chmod(hang, 0o755);
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
  });
  after(async () => {
    killPids(started);
    await w.close();
  });

  async function hookSaw(dir: string) {
    const read = (name: string) => readFile(path.join(dir, name), "utf8");
    return {
      HAIL_PROFILE: await read("HAIL_PROFILE"),
      HAIL_RESULT: await read("HAIL_RESULT"),
      HAIL_STORE_PATH: await read("HAIL_STORE_PATH"),
      HAIL_BUILD_ID: await read("HAIL_BUILD_ID"),
      HAIL_ERROR: await read("HAIL_ERROR"),
      args: (await read("args")).split("\n").slice(0, -1),
    };
  }

  const hookArgs = () => ["--on-success", `${hook} success-arg 'two words'`, "--on-failure", `${hook} failure-arg`];

  it("a success runs --on-success after the activation, with HAIL_* and its own argv", async () => {
    const out = path.join(w.lab.root, "hook-success");
    const r = await w.hail([...w.gateArgs("hooked"), "--oneshot", ...hookArgs()], { HOOK_OUT: out });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await hookSaw(out), {
      HAIL_PROFILE: path.join(w.lab.profilesDir, "hooked"),
      HAIL_RESULT: "success",
      HAIL_STORE_PATH: app1,
      HAIL_BUILD_ID: "101",
      HAIL_ERROR: "",
      args: ["success-arg", "two words"],
    });
    assert.deepEqual(await w.activations(), [`activated ${app1} build=101`, "hook success"], "the hook runs after the activation");
    assert.ok(r.stderr.split("\n").some((l) => l.includes("hook says hello") && l.includes('"source":"on-success hook"')), "its output is logged");
  });

  it("a failing hook (exit 7) leaves exit 0 and counts in hail_hook_failures_total", async () => {
    const out = path.join(w.lab.root, "hook-exit7");
    const metrics = path.join(w.lab.root, "metrics", "hookfail.prom");
    const r = await w.hail([...w.gateArgs("hookfail"), "--oneshot", ...hookArgs(), "--metrics-file", metrics], { HOOK_OUT: out, HOOK_EXIT: "7" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("hookfail"), app1, "the deployment stands");
    assert.equal((await hookSaw(out)).HAIL_RESULT, "success", "the hook did run");
    assert.match(r.stderr, /on-success hook .*failed \(exit 7\)/);
    const text = await readFile(metrics, "utf8");
    assert.match(text, /^hail_hook_failures_total\{profile="hookfail"\} 1$/m);
    assert.match(text, /^hail_deployments_total\{profile="hookfail",result="success"\} 1$/m);
    assert.match(text, /^hail_deployments_total\{profile="hookfail",result="failed"\} 0$/m);
  });

  it("a hanging hook is killed at --activate-timeout; the result stands", async () => {
    const pidFile = path.join(w.lab.root, "hang.pid");
    const metrics = path.join(w.lab.root, "metrics", "hookhang.prom");
    const r = await w.hail(
      [...w.gateArgs("hookhang"), "--oneshot", "--activate-timeout", "2s", "--on-success", hang, "--metrics-file", metrics],
      { HOOK_PID: pidFile },
    );
    const sleeper = Number((await readFile(pidFile, "utf8")).trim());
    started.push(sleeper);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("hookhang"), app1);
    assert.match(r.stderr, /on-success hook timed out/);
    assert.match(await readFile(metrics, "utf8"), /^hail_hook_failures_total\{profile="hookhang"\} 1$/m);
    await waitUntil(async () => !(await alive(sleeper)), "the hook's sleep to be killed", 20_000);
  });

  it("a failure runs --on-failure after the rollback, with HAIL_RESULT=failed and HAIL_ERROR", async () => {
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);
    const out = path.join(w.lab.root, "hook-failure");
    const r = await w.hail([...w.gateArgs("hooked"), "--oneshot", ...hookArgs()], { HOOK_OUT: out });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(await w.profileTarget("hooked"), app1, "rolled back");
    const saw = await hookSaw(out);
    assert.equal(saw.HAIL_RESULT, "failed");
    assert.equal(saw.HAIL_PROFILE, path.join(w.lab.profilesDir, "hooked"));
    assert.equal(saw.HAIL_STORE_PATH, app2);
    assert.equal(saw.HAIL_BUILD_ID, "201");
    assert.notEqual(saw.HAIL_ERROR, "");
    assert.match(saw.HAIL_ERROR, /activation/);
    assert.deepEqual(saw.args, ["failure-arg"]);
    const log = await w.activations();
    assert.deepEqual(log.slice(-2), [`activated ${app1} build=101`, "hook failed"], "the hook runs after the rollback's re-activation");
  });

  it("a failing --on-failure hook leaves the exit code at 1", async () => {
    const out = path.join(w.lab.root, "hook-failure-exit7");
    const r = await w.hail([...w.gateArgs("hookfail2"), "--oneshot", ...hookArgs()], { HOOK_OUT: out, HOOK_EXIT: "7" });
    assert.equal(r.code, 1, r.stderr);
    assert.equal((await hookSaw(out)).HAIL_RESULT, "failed");
    assert.equal(await w.profileTarget("hookfail2"), null, "no profile before, none after the rollback");
  });

  it("a hook that needs a shell (pipe, redirection) is refused at start with 64", async () => {
    const redirected = path.join(w.lab.root, "redirected");
    for (const [flag, cmd] of [["--on-success", "a | b"], ["--on-failure", `echo hi > ${redirected}`]] as const) {
      w.hydra.resetRequests();
      const calls = await w.nixCalls();
      const r = await w.hail([...w.gateArgs("refused"), "--oneshot", flag, cmd]);
      assert.equal(r.code, 64, `${flag} ${cmd}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${flag}: .*needs a shell`));
      assert.deepEqual(w.hydra.requests, [], "refused before asking Hydra");
      assert.deepEqual(await w.nixCalls(), calls);
    }
    await assert.rejects(readFile(redirected), { code: "ENOENT" });
  });
});

// ---- 5. holds that expire ----

describe("hail hold --until", () => {
  let w: World;
  let app1: string;
  let app2: string;

  before(async () => {
    ({ world: w, apps: [app1, app2] } = await worldAtGreenGate("1", "2"));
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => w.close());

  async function status(profile: string): Promise<StatusJson> {
    const r = await w.hail(["status", profile, "--json", ...w.manageArgs()]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as StatusJson;
  }

  it("--until 2s: status --json shows until = now + 2s (ISO), the text status says until when", async () => {
    const t0 = Date.now();
    const r = await w.hail(["hold", "short", "--new", "--until", "2s", "--reason", "deploy freeze", ...w.manageArgs()]);
    const t1 = Date.now();
    assert.equal(r.code, 0, r.stderr);
    const until = (await status("short")).hold?.until;
    assert.ok(until, "the hold has an end");
    assert.equal(new Date(until).toISOString(), until, "an ISO time");
    const at = Date.parse(until);
    assert.ok(at >= t0 + 2000 && at <= t1 + 2000, `until ${until} is 2s after the command ran`);
    assert.ok(r.stdout.includes(until), r.stdout);
    const text = await w.hail(["status", "short", ...w.manageArgs()]);
    assert.match(text.stdout, new RegExp(`^hold: +held since \\S+ until ${until.replace(/\./g, "\\.")}: deploy freeze$`, "m"));
  });

  it("while held, a --oneshot with a new build says held (exit 0, nothing changes); once expired it deploys", async () => {
    const r = await w.hail(["hold", "myapp", "--until", "10s", ...w.manageArgs()]);
    assert.equal(r.code, 0, r.stderr);
    const until = (await status("myapp")).hold?.until;
    assert.ok(until);
    for (const b of greenGate(200, 20, app2)) w.hydra.addBuild(b);

    const calls = await w.nixCalls();
    const held = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.ok(Date.now() < Date.parse(until), "this test needs the oneshot to run within the hold");
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, /held until/);
    assert.equal(await w.profileTarget("myapp"), app1);
    assert.deepEqual(await w.nixCalls(), calls, "nothing realised while held");
    const plan = await w.hail(["plan", ...w.gateArgs("myapp"), "--json"]);
    assert.equal(parsePlan(plan.stdout).action, "held");

    await waitUntil(() => Date.now() > Date.parse(until) + 100, "the hold to expire");
    const deployed = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal(await w.profileTarget("myapp"), app2, "the expired hold released itself");
    assert.equal((await w.activations()).at(-1), `activated ${app2} build=201`);
  });

  it("an expired hold no longer shows as held in status", async () => {
    const text = await w.hail(["status", "myapp", ...w.manageArgs()]);
    assert.equal(text.code, 0, text.stderr);
    assert.doesNotMatch(text.stdout, /^hold: +held/m, text.stdout);
  });

  it("--until in the past or unreadable is a usage error (64) and sets no hold", async () => {
    for (const bad of ["2000-01-01T00:00:00Z", new Date(Date.now() - 60_000).toISOString(), "soon", "2x", "yesterday", "0s"]) {
      const r = await w.hail(["hold", "refused", "--new", "--until", bad, ...w.manageArgs()]);
      assert.equal(r.code, 64, `--until ${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--until/);
    }
    assert.equal(await w.readState("refused"), null, "no state was written");
  });

  it("--until an absolute time is accepted and kept exactly", async () => {
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const r = await w.hail(["hold", "absolute", "--new", "--until", `${day}T08:00:00Z`, ...w.manageArgs()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await status("absolute")).hold?.until, `${day}T08:00:00.000Z`);
    const offset = await w.hail(["hold", "offset", "--new", "--until", `${day}T10:00:00+02:00`, ...w.manageArgs()]);
    assert.equal(offset.code, 0, offset.stderr);
    assert.equal((await status("offset")).hold?.until, `${day}T08:00:00.000Z`, "an offset is converted to UTC");
  });

  it("--until a bare number is not read as a year", async () => {
    const before = Date.now();
    const r = await w.hail(["hold", "bare", "--new", "--until", "45", ...w.manageArgs()]);
    if (r.code === 64) return;
    assert.equal(r.code, 0, r.stderr);
    const until = (await status("bare")).hold?.until;
    assert.ok(until);
    assert.ok(Date.parse(until) < before + 86_400_000, `--until 45 held until ${until}: a duration or a usage error was expected`);
  });
});
