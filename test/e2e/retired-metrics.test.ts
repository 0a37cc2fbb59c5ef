// A target removed from the config file on purpose is said so in the metrics for a week
// (hail_target_retired_timestamp_seconds), so that HailMetricsGone stays silent for it (issue
// 22, point 7; the rule itself is tested with promtool in test/metrics/alert-rules.test.ts).
// The built CLI, real Nix, the Hydra test server.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { waitUntil, worldAtGreenGate, type World } from "./world.js";

describe("a target removed from the config file, in the metrics", () => {
  let w: World;
  let config: string;
  let metricsFile: string;
  const writeConfig = (profiles: string[], extra: Record<string, unknown> = {}) =>
    writeFile(config, JSON.stringify({ profilesDir: w.lab.profilesDir, stateDir: w.stateDir, logFormat: "json", metricsFile, ...extra, targets: profiles.map((profile) => ({ profile, gateJob: w.gateUrl, constituent: "myapp" })) }));
  const retiredLines = (text: string) => text.split("\n").filter((l) => l.startsWith("hail_target_retired_timestamp_seconds"));

  before(async () => {
    ({ world: w } = await worldAtGreenGate("1"));
    config = path.join(w.lab.root, "hail.json");
    metricsFile = path.join(w.lab.root, "hail.prom");
  });
  afterEach(() => w.stopDaemons());
  after(() => w.close());

  it("a one-shot exports the retired target with the time it was retired, and only it", async () => {
    await writeConfig(["web", "worker"]);
    const both = await w.hail(["--config", config, "--oneshot"]);
    assert.equal(both.code, 0, both.stderr);
    assert.deepEqual(retiredLines(await readFile(metricsFile, "utf8")), [], "nothing retired yet: no such series");

    await writeConfig(["web"]);
    const before = Date.now() / 1000;
    const one = await w.hail(["--config", config, "--oneshot"]);
    assert.equal(one.code, 0, one.stderr);
    const text = await readFile(metricsFile, "utf8");
    assert.match(text, /^# TYPE hail_target_retired_timestamp_seconds gauge$/m);
    const lines = retiredLines(text);
    assert.equal(lines.length, 1, text);
    const m = /^hail_target_retired_timestamp_seconds\{profile="worker"\} (\S+)$/.exec(lines[0] ?? "");
    assert.ok(m, lines[0]);
    const retiredAt = Number(m[1]);
    assert.ok(retiredAt >= Math.floor(before) && retiredAt <= Date.now() / 1000 + 1, `retired at ${retiredAt}`);
    assert.doesNotMatch(text, /^hail_last_check_timestamp_seconds\{profile="worker"\}/m, "its own series are gone");

    // the next runs still say so (the state file keeps when), with the same time
    const again = await w.hail(["--config", config, "--oneshot"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(retiredLines(await readFile(metricsFile, "utf8")), lines);
  });

  it("a daemon's /metrics says it too; a target added back is no longer retired", async () => {
    await writeConfig(["web"], { metricsListen: "127.0.0.1:0", pollPeriod: "1h" });
    const daemon = w.startDaemon(["--config", config]);
    const started = () => daemon.logLines().find((l) => String(l.msg).startsWith("hail started"));
    await daemon.waitFor(() => started() !== undefined, "the hail started line");
    const url = String(started()?.metricsUrl);
    await waitUntil(async () => /hail_last_check_timestamp_seconds\{profile="web"\} [1-9]/.test(await (await fetch(`${url}/metrics`)).text()), "the first pass");
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^hail_target_retired_timestamp_seconds\{profile="worker"\} \d/m);
    assert.equal(await daemon.stop("SIGTERM"), 0);

    await writeConfig(["web", "worker"]);
    const back = await w.hail(["--config", config, "--oneshot"]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(retiredLines(await readFile(metricsFile, "utf8")), []);
  });
});
