// Input hail must refuse or defuse, end to end with the built CLI: durations that would
// overflow Node's timers, dates that do not exist, output names that index an object's
// prototype, and Hydra strings with control characters that could forge log lines.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HailDaemon, runHail } from "../support/cli.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { greenGate } from "./world.js";

const APP = "/nix/store/7xk3w8lbc6r1hzz4q3f0d4c9m2i5y1a0-myapp-1.0";

describe("limits on durations, dates and output names (usage errors, exit 64)", () => {
  let dir: string;
  let hydra: HydraTestServer;
  const env = () => ({ PATH: process.env.PATH ?? "", HOME: dir });
  const target = () => [
    "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp", "--profile", "myapp",
    "--profiles-dir", path.join(dir, "profiles"), "--state-dir", path.join(dir, "state"), "--log-format", "json",
  ];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hail-limits-"));
    hydra = await HydraTestServer.start();
    for (const b of greenGate(100, 10, APP)) hydra.addBuild(b);
  });
  after(async () => {
    await hydra.close();
    await rm(dir, { recursive: true, force: true });
  });

  const durations: Array<[string, string[], RegExp]> = [
    ["--poll-period 30d", ["--poll-period", "30d"], /--poll-period 30d is too long: the limit is 7 days/],
    ["--activate-timeout 9999h", ["--activate-timeout", "9999h"], /--activate-timeout 9999h is too long: the limit is 7 days/],
    ["--timeout 30d", ["--timeout", "30d"], /--timeout 30d is too long: the limit is 7 days/],
    ["--rollout-window 99999999999999999999d", ["--rollout-window", "99999999999999999999d"], /--rollout-window 99999999999999999999d is too long: the limit is 365 days/],
    ["--poll-min-interval 8d", ["--poll-min-interval", "8d"], /--poll-min-interval 8d is too long: the limit is 7 days/],
    ["--timeout 0s", ["--timeout", "0s"], /--timeout 0s must be longer than zero/],
  ];
  for (const [what, args, message] of durations) {
    it(`${what}: exit 64 naming the limit, before any request`, async () => {
      hydra.resetRequests();
      const r = await runHail([...target(), ...args, "--oneshot"], env());
      assert.equal(r.code, 64, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(hydra.requests.length, 0, "no request was sent");
    });
  }

  it("the same limits hold for config-file values (pollPeriod 30d, timeout as a number of seconds)", async () => {
    const file = path.join(dir, "hail.json");
    const targets = [{ profile: "myapp", gateJob: `${hydra.url}/job/myproject/main/release_gate`, constituent: "myapp" }];
    for (const [options, message] of [
      [{ pollPeriod: "30d" }, /--poll-period 30d is too long: the limit is 7 days/],
      [{ timeout: 99_999_999 }, /--timeout 99999999 is too long: the limit is 7 days/],
      [{ pollMinInterval: "0s" }, /--poll-min-interval 0s must be longer than zero/],
    ] as const) {
      await writeFile(file, JSON.stringify({ ...options, stateDir: path.join(dir, "state"), profilesDir: path.join(dir, "profiles"), targets }));
      const r = await runHail(["--config", file, "--oneshot", "--log-format", "json"], env());
      assert.equal(r.code, 64, `${JSON.stringify(options)}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  const holds: Array<[string, RegExp]> = [
    ["99999999999d", /--until 99999999999d is too long: the limit is 365 days/],
    ["2027-02-30", /--until 2027-02-30: no such day/],
    ["2027-02-29T10:00:00Z", /--until 2027-02-29T10:00:00Z: no such day/],
    ["2026-12-01T25:00:00Z", /no such time of day/],
  ];
  for (const [until, message] of holds) {
    it(`hold --until ${until}: exit 64, and no hold is stored`, async () => {
      const r = await runHail(["hold", "myapp", "--new", "--until", until, "--profiles-dir", path.join(dir, "profiles"), "--state-dir", path.join(dir, "state")], env());
      assert.equal(r.code, 64, r.stderr);
      assert.match(r.stderr, message);
      const status = await runHail(["status", "myapp", "--json", "--profiles-dir", path.join(dir, "profiles"), "--state-dir", path.join(dir, "state")], env());
      // no state was written: the profile is still unknown to status
      assert.equal(status.code, 64, status.stderr);
      assert.match(status.stderr, /profile myapp is unknown/);
    });
  }

  for (const output of ["", "toString", "__proto__", "constructor", "out/../x"]) {
    it(`--output ${JSON.stringify(output)}: exit 64 before any request, for run and plan`, async () => {
      hydra.resetRequests();
      const run = await runHail([...target(), "--output", output, "--oneshot"], env());
      assert.equal(run.code, 64, run.stderr);
      assert.match(run.stderr, /--output .*not an output name/);
      const plan = await runHail(["plan", ...target(), "--output", output], env());
      assert.equal(plan.code, 64, plan.stderr);
      assert.equal(hydra.requests.length, 0);
    });
  }

  it("--min-free 1constructor is a usage error, not a NaN limit", async () => {
    const r = await runHail([...target(), "--min-free", "1constructor", "--oneshot"], env());
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /--min-free: cannot read size/);
  });
});

describe("strings from Hydra are logged with control characters escaped", () => {
  let dir: string;
  let hydra: HydraTestServer;
  // A job name that tries to end the line, forge a JSON log line and a pretty one, and colour the terminal.
  const evil = 'evil\n{"level":"info","msg":"deployed build 999"}\r\n2026-01-01T00:00:00Z INFO forged\u001b[31mred\u001b[0m\u2028x\u009b2J';
  const daemons: HailDaemon[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hail-escape-"));
    hydra = await HydraTestServer.start();
    const [gate, app, tests] = greenGate(100, 10, APP);
    hydra.addBuild(gate!);
    hydra.addBuild(app!);
    hydra.addBuild({ ...tests!, job: evil });
  });
  after(async () => {
    for (const d of daemons) if (d.alive) await d.stop("SIGKILL");
    await hydra.close();
    await rm(dir, { recursive: true, force: true });
  });

  const args = (format: string) => [
    "--gate-job", `${hydra.url}/job/myproject/main/release_gate`, "--constituent", "webapp", "--profile", `p-${format}`,
    "--profiles-dir", path.join(dir, "profiles"), "--state-dir", path.join(dir, "state"), "--log-format", format, "--poll-period", "1h",
  ];

  const assertNoRawControls = (text: string) => {
    assert.ok(!/[\u001b\r\u2028\u009b]/.test(text), `a raw control character got through: ${JSON.stringify(text)}`);
  };

  it("json: every stderr line is one JSON object, the job name appears escaped in it, no forged line", async () => {
    const d = HailDaemon.start(args("json"), { PATH: process.env.PATH ?? "", HOME: dir });
    daemons.push(d);
    await d.waitFor(/no constituent named/, "the refusal naming the constituents");
    await d.stop("SIGTERM");
    assertNoRawControls(d.stderr);
    const lines = d.stderr.split("\n").filter((l) => l !== "");
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not one JSON object: ${line}`);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(!parsed.some((l) => l.msg === "deployed build 999"), "no forged line");
    const refusal = parsed.find((l) => String(l.msg).includes("no constituent named"));
    // The decoded message holds the escapes as text, so a log viewer shows them instead of obeying them.
    assert.ok(String(refusal?.msg).includes('evil\\n{"level":"info","msg":"deployed build 999"}\\r\\n2026-01-01T00:00:00Z INFO forged\\u001b[31mred'), String(refusal?.msg));
  });

  it("pretty: the refusal stays on one line and no forged line starts with a timestamp of its own", async () => {
    const d = HailDaemon.start(args("pretty"), { PATH: process.env.PATH ?? "", HOME: dir });
    daemons.push(d);
    await d.waitFor(/no constituent named/, "the refusal naming the constituents");
    await d.stop("SIGTERM");
    assertNoRawControls(d.stderr);
    const lines = d.stderr.split("\n").filter((l) => l !== "");
    assert.ok(!lines.some((l) => l.startsWith("2026-01-01T00:00:00Z") || l.startsWith('{"level"')), d.stderr);
    const refusal = lines.filter((l) => l.includes("no constituent named"));
    assert.equal(refusal.length, 1, d.stderr);
    assert.ok(refusal[0]?.includes("\\u001b[31mred"), refusal[0]);
  });

  it("plan prints the error on stderr escaped, continuation lines indented", async () => {
    const r = await runHail(["plan", ...args("json").filter((a) => a !== "--poll-period" && a !== "1h")], { PATH: process.env.PATH ?? "", HOME: dir });
    assert.equal(r.code, 65, r.stderr);
    assertNoRawControls(r.stderr);
    assert.ok(!r.stderr.split("\n").some((l) => l.startsWith("2026-01-01T00:00:00Z") || l.startsWith('{"level"')), r.stderr);
    assert.ok(r.stderr.split("\n").some((l) => l.startsWith("{") && String((JSON.parse(l) as { msg?: unknown }).msg).includes("it has: evil\\n{")), r.stderr);
  });

  it("a one-shot's error on stderr is escaped the same way", async () => {
    const r = await runHail([...args("json"), "--oneshot"], { PATH: process.env.PATH ?? "", HOME: dir });
    assert.equal(r.code, 65, r.stderr);
    assertNoRawControls(r.stderr);
    assert.ok(!r.stderr.split("\n").some((l) => l.startsWith("2026-01-01T00:00:00Z") || l.startsWith('{"level"')), r.stderr);
    assert.ok(r.stderr.split("\n").some((l) => l.startsWith("{") && String((JSON.parse(l) as { msg?: unknown }).msg).includes("it has: evil\\n{")), r.stderr);
  });
});
