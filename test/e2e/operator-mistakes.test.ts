// An operator's mistakes on the command line, against the built CLI: a typo in a profile name
// or a command gets 64 and one line that names it, and nothing is written (issue 22, points
// 1 and 4; SPEC section 9).
import assert from "node:assert/strict";
import { lstat, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { assertEnded } from "./ended.js";
import type { World } from "./world.js";
import { worldAtGreenGate } from "./world.js";

let w: World;

before(async () => {
  ({ world: w } = await worldAtGreenGate("1"));
  const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
  assert.equal(r.code, 0, r.stderr);
});
after(() => w.close());

/** What is on disk that a command could have written: the state dir's and the profiles dir's entries. */
async function written(): Promise<string[]> {
  return [...(await readdir(w.stateDir)).map((f) => `state/${f}`), ...(await readdir(w.lab.profilesDir)).map((f) => `profiles/${f}`)].sort();
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

/** Exactly one line on stderr: what an operator (or a cron mail) sees. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr: ${stderr}`);
  return lines[0] ?? "";
}

describe("a profile hail does not know is refused (64), named, with the ones it knows; nothing is written", () => {
  for (const command of ["hold", "release", "status"]) {
    it(`hail ${command} myap (a typo of the deployed myapp)`, async () => {
      const before = await written();
      const r = await w.hail([command, "myap", ...w.manageArgs()]);
      assertEnded(r, 64);
      const line = oneLine(r.stderr);
      assert.match(line, /^hail: profile myap is unknown: no profile link \S+\/myap and no hail state for it in \S+; profiles hail knows there: (\S+, )*myapp\b/);
      if (command === "hold") assert.match(line, /add --new$/, "says how to hold it before its first deployment");
      assert.equal(r.stdout, "");
      assert.deepEqual(await written(), before, "no state file, no profile, no lock");
      assert.equal(await exists(w.stateFile("myap")), false);
    });
  }

  it("status --json of an unknown profile: the failure is a JSON object on stdout too", async () => {
    const r = await w.hail(["status", "myap", "--json", ...w.manageArgs()]);
    assert.equal(r.code, 64, r.stderr);
    const body = JSON.parse(r.stdout) as { error: { exitCode: number; message: string } };
    assert.equal(body.error.exitCode, 64);
    assert.match(body.error.message, /profile myap is unknown/);
  });

  it("hold --new holds a profile before its first deployment; status and release then know it", async () => {
    const held = await w.hail(["hold", "fresh", "--new", "--reason", "not yet", ...w.manageArgs()]);
    assert.equal(held.code, 0, held.stderr);
    assert.equal(held.stdout, "held fresh: not yet");
    assert.equal((await w.readState("fresh"))?.hold?.reason, "not yet");
    const status = await w.hail(["status", "fresh", "--json", ...w.manageArgs()]);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { hold: { reason: string } }).hold.reason, "not yet");
    const released = await w.hail(["release", "fresh", ...w.manageArgs()]);
    assert.equal(released.code, 0, released.stderr);
    assert.equal((await w.readState("fresh"))?.hold, null);
  });

  it("the deployed profile itself is held and released as before", async () => {
    assert.equal((await w.hail(["hold", "myapp", ...w.manageArgs()])).code, 0);
    assert.notEqual((await w.readState("myapp"))?.hold, null);
    assert.equal((await w.hail(["release", "myapp", ...w.manageArgs()])).code, 0);
    assert.equal((await w.readState("myapp"))?.hold, null);
  });
});

describe("hold, release and status --config FILE PROFILE: the target's own dirs", () => {
  let config: string;
  before(async () => {
    config = path.join(w.lab.root, "hail.json");
    const target = { gateJob: w.gateUrl, constituent: "myapp" };
    const file = { profilesDir: w.lab.profilesDir, stateDir: w.stateDir, targets: [{ profile: "myapp", ...target }, { profile: "upcoming", ...target }] };
    await writeFile(config, JSON.stringify(file));
  });

  it("hold --config FILE myapp holds it in the config's state dir, release --config releases it", async () => {
    const held = await w.hail(["hold", "--config", config, "myapp", "--reason", "from the config"]);
    assert.equal(held.code, 0, held.stderr);
    assert.equal((await w.readState("myapp"))?.hold?.reason, "from the config");
    const status = await w.hail(["status", "--config", config, "myapp", "--json"]);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout) as { profile: string; hold: { reason: string } };
    assert.deepEqual([report.profile, report.hold.reason], ["myapp", "from the config"], "status --config FILE PROFILE shows that target alone");
    const released = await w.hail(["release", "--config", config, "myapp"]);
    assert.equal(released.code, 0, released.stderr);
    assert.equal((await w.readState("myapp"))?.hold, null);
  });

  it("a target of the config file not deployed yet can be held (the config names it)", async () => {
    const held = await w.hail(["hold", "--config", config, "upcoming"]);
    assert.equal(held.code, 0, held.stderr);
    assert.notEqual((await w.readState("upcoming"))?.hold, null);
  });

  it("a profile that is not a target of the file: 64, listing the targets; nothing written", async () => {
    const before = await written();
    const r = await w.hail(["hold", "--config", config, "myap"]);
    assertEnded(r, 64);
    assert.match(oneLine(r.stderr), /^hail: profile myap is not a target of config file \S+hail\.json; its targets: myapp, upcoming$/);
    const none = await w.hail(["release", "--config", config]);
    assertEnded(none, 64, /which profile\? give PROFILE, one of the targets of config file \S+: myapp, upcoming/);
    assert.deepEqual(await written(), before);
  });
});

describe("commands as in the tools people know", () => {
  it("hail deplyo: unknown command, with a suggestion; nothing is written", async () => {
    const before = await written();
    const r = await w.hail(["deplyo", ...w.manageArgs()]);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /unknown command 'deplyo'/);
    assert.match(r.stderr, /Did you mean deploy\?/);
    assert.doesNotMatch(r.stderr, /too many arguments/);
    assert.deepEqual(await written(), before);
  });

  it("hail plna suggests plan", async () => {
    const r = await w.hail(["plna"]);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /unknown command 'plna'[\s\S]*Did you mean plan\?/);
  });

  for (const command of ["run", "deploy", "plan", "status", "hold", "release"]) {
    it(`hail help ${command} prints that command's usage (exit 0)`, async () => {
      const r = await w.hail(["help", command]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: hail ${command === "deploy" ? "run" : command}\\|?`, "m"));
    });
  }

  it("hail help deplyo: 64 with a message, not the whole usage in silence", async () => {
    const r = await w.hail(["help", "deplyo"]);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /unknown command 'deplyo'[\s\S]*Did you mean deploy\?/);
  });

  it("bare hail prints the usage with its commands on stderr and exits 64", async () => {
    const r = await w.hail([]);
    assert.equal(r.code, 64, r.stderr);
    for (const command of ["run|deploy", "plan", "status", "hold", "release", "help"]) assert.match(r.stderr, new RegExp(`^  ${command.replace("|", "\\|")} `, "m"));
  });

  it("options first still mean run: hail --gate-job … --oneshot deploys (exit 0)", async () => {
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
  });
});
