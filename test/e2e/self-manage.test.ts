// hail manages hail: a "manager" hail deploys a profile whose bin/activate installs another hail
// instance and restarts the manager itself, the original hail's bootstrap story. The test plays
// systemd: it restarts the manager when it exits and starts the instance the activation installed.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { FakeBuild } from "../support/hydra-server.js";
import { createWorld, publishedApps, type World } from "./world.js";

// The activation of the manager's release. `kill -TERM "$PPID"` stands in for
// `systemctl restart --no-block hail-manager`: the manager is asked to stop while its own
// activation is still running. The marker makes the restart idempotent, so the restarted
// manager's start-up activation does not restart it again.
const MANAGER_ACTIVATE = `
dir="$HAIL_TEST_DIR"
echo "activated $out build=\${HAIL_BUILD_ID:-}" >> "$dir/manager.log"
printf '{"stateDir":"%s","profilesDir":"%s","logFormat":"json","targets":[{"profile":"worker","gateJob":"%s","constituent":"worker"}]}\\n' \\
  "$dir/state" "$dir/profiles" "$HAIL_TEST_GATE" > "$dir/worker.json"
if [ "$(cat "$dir/manager-running" 2>/dev/null)" != "$out" ]; then
  echo "$out" > "$dir/manager-running"
  kill -TERM "$PPID"
fi
sleep 1
echo "finished $out" >> "$dir/manager.log"
`;

describe("hail manages hail", () => {
  let w: World;
  let manager: string;
  let worker: string;

  before(async () => {
    w = await createWorld();
    [manager, worker] = (await publishedApps(w.lab, { name: "manager", version: "1", activate: MANAGER_ACTIVATE }, { name: "worker", version: "1" })) as [
      string,
      string,
    ];
    const base = { project: "myproject", jobset: "main", finished: true, buildstatus: 0, jobsetevals: [10] };
    const builds: FakeBuild[] = [
      { ...base, id: 100, job: "release_gate", outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: [101, 102] },
      { ...base, id: 101, job: "manager", outputs: { out: manager } },
      { ...base, id: 102, job: "worker", outputs: { out: worker } },
    ];
    for (const b of builds) w.hydra.addBuild(b);
  });
  after(() => w.close());

  const env = () => ({ ...w.env, HAIL_TEST_DIR: w.lab.root, HAIL_TEST_GATE: w.gateUrl });
  const managerLog = async () => (await readFile(path.join(w.lab.root, "manager.log"), "utf8")).trim().split("\n");
  const stateOf = async (profile: string) =>
    JSON.parse(await readFile(w.stateFile(profile), "utf8")) as {
      lastDeployed: { buildId: number; storePath: string } | null;
      lastAttempt: { result: string | null; endedAt: string | null } | null;
    };

  it("the manager finishes its own pass when its activation restarts it, then comes back without a loop", async () => {
    const first = w.startDaemon([...w.gateArgs("manager", "manager"), "--poll-period", "1h"], env());
    const code = await first.child.then((r) => r.exitCode);
    assert.equal(code, 0, `the manager stops cleanly when asked to during its own activation:\n${first.stderr}`);
    assert.match(first.stderr, /received SIGTERM: stopping after the running step/);
    assert.deepEqual(await managerLog(), [`activated ${manager} build=101`, `finished ${manager}`], "the activation ran to its end");
    const state = await stateOf("manager");
    assert.equal(state.lastDeployed?.buildId, 101);
    assert.equal(state.lastAttempt?.result, "success", "the pass was recorded as a success, not left half done");
    assert.equal(await w.profileTarget("manager"), manager);
    assert.deepEqual(await w.generations("manager"), [1]);

    // systemd starts the manager again (in real life: the hail binary from the new profile)
    const second = w.startDaemon([...w.gateArgs("manager", "manager"), "--poll-period", "1h", "--log-level", "debug"], env());
    await second.waitFor(/profile is up to date/, "the restarted manager's first pass");
    assert.ok(second.alive, "the restarted manager keeps running: its start-up activation did not restart it again");
    assert.deepEqual(await managerLog(), [
      `activated ${manager} build=101`,
      `finished ${manager}`,
      `activated ${manager} build=101`,
      `finished ${manager}`,
    ]);
    assert.deepEqual(await w.generations("manager"), [1], "no redeployment loop");
    assert.equal(await second.stop("SIGTERM"), 0);
  });

  it("the hail instance the manager's activation installed deploys its own profile", async () => {
    const r = await w.hail(["--config", path.join(w.lab.root, "worker.json"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("worker"), worker);
    assert.equal((await stateOf("worker")).lastDeployed?.buildId, 102);
  });
});
