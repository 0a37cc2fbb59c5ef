// renderMetrics: the exact text a textfile collector and /metrics read (README, "Metrics"), and
// promtool's verdict on it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execa } from "execa";
import { BUILD_INFO } from "../../src/build-info.js";
import { renderMetrics, type ProfileMetrics } from "../../src/metrics/exposition.js";
import { MetricsStateSchema, type MetricsState } from "../../src/state/schema.js";

/** Through the state file's schema, so fields it defaults are filled in as hail would. */
function metrics(overrides: Partial<MetricsState> = {}): MetricsState {
  return MetricsStateSchema.parse({
    upToDate: false,
    lastCheckAt: null,
    lastSuccessAt: null,
    deployments: { success: 0, failed: 0 },
    rollbacks: 0,
    errors: {},
    ...overrides,
  });
}

function profile(name: string, m: Partial<MetricsState> = {}, deployedBuildId: number | null = null): ProfileMetrics {
  return { profile: name, metrics: metrics(m), deployedBuildId };
}

/** The sample lines of one family, without HELP and TYPE. */
function samplesOf(text: string, family: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(`${family}{`));
}

/** HELP, TYPE and sample lines of each family, by family name, in the order rendered. */
function familyBlocks(text: string): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of text.replace(/\n$/, "").split("\n")) {
    const help = /^# HELP (\S+) /.exec(line);
    if (help) {
      assert.ok(!blocks.has(help[1] ?? ""), `one HELP per family: ${line}`);
      current = [];
      blocks.set(help[1] ?? "", current);
    }
    current.push(line);
  }
  return blocks;
}

/** `promtool check metrics` with the text on stdin; the test fails (never skips) without promtool. */
async function promtoolCheck(text: string): Promise<{ exitCode: number | undefined; output: string }> {
  const r = await execa("promtool", ["check", "metrics"], { input: text, reject: false, all: true });
  if (r.code === "ENOENT") assert.fail("promtool is not installed (Debian package prometheus); it is required, not optional");
  return { exitCode: r.exitCode, output: r.all ?? "" };
}

describe("renderMetrics", () => {
  it("renders every series of README's Metrics table with HELP, TYPE and the profile label, exactly", () => {
    const text = renderMetrics([
      profile(
        "myapp",
        {
          upToDate: true,
          lastCheckAt: "2024-01-02T03:04:05.500Z",
          lastSuccessAt: "2024-01-02T03:00:00.000Z",
          deployments: { success: 3, failed: 1 },
          rollbacks: 1,
          errors: { unavailable: 2, activation: 1 },
          knownBadSkips: 4,
        },
        101,
      ),
    ]);
    const expected: Record<string, string[]> = {
      hail_up_to_date: [
        "# HELP hail_up_to_date 1 when the profile is at the newest deployable build",
        "# TYPE hail_up_to_date gauge",
        'hail_up_to_date{profile="myapp"} 1',
      ],
      hail_deployed_build_id: [
        "# HELP hail_deployed_build_id Hydra build id of what is deployed (NaN when unknown, e.g. changed outside hail)",
        "# TYPE hail_deployed_build_id gauge",
        'hail_deployed_build_id{profile="myapp"} 101',
      ],
      hail_last_check_timestamp_seconds: [
        "# HELP hail_last_check_timestamp_seconds end of the last pass, whatever its result (0: never)",
        "# TYPE hail_last_check_timestamp_seconds gauge",
        'hail_last_check_timestamp_seconds{profile="myapp"} 1704164645.5',
      ],
      hail_last_success_timestamp_seconds: [
        "# HELP hail_last_success_timestamp_seconds end of the last pass that left the profile current (0: never)",
        "# TYPE hail_last_success_timestamp_seconds gauge",
        'hail_last_success_timestamp_seconds{profile="myapp"} 1704164400',
      ],
      hail_deployments_total: [
        "# HELP hail_deployments_total deployment attempts by result",
        "# TYPE hail_deployments_total counter",
        'hail_deployments_total{profile="myapp",result="success"} 3',
        'hail_deployments_total{profile="myapp",result="failed"} 1',
      ],
      hail_rollbacks_total: [
        "# HELP hail_rollbacks_total rollbacks performed",
        "# TYPE hail_rollbacks_total counter",
        'hail_rollbacks_total{profile="myapp"} 1',
      ],
      hail_known_bad_skips_total: [
        "# HELP hail_known_bad_skips_total passes that skipped the newest build because it failed to deploy here before (known-bad), keeping what is deployed",
        "# TYPE hail_known_bad_skips_total counter",
        'hail_known_bad_skips_total{profile="myapp"} 4',
      ],
      hail_errors_total: [
        "# HELP hail_errors_total errors by kind",
        "# TYPE hail_errors_total counter",
        'hail_errors_total{profile="myapp",kind="usage"} 0',
        'hail_errors_total{profile="myapp",kind="invalid_response"} 0',
        'hail_errors_total{profile="myapp",kind="unavailable"} 2',
        'hail_errors_total{profile="myapp",kind="not_ready"} 0',
        'hail_errors_total{profile="myapp",kind="nix"} 0',
        'hail_errors_total{profile="myapp",kind="activation"} 1',
        'hail_errors_total{profile="myapp",kind="environment"} 0',
        'hail_errors_total{profile="myapp",kind="internal"} 0',
      ],
    };
    const blocks = familyBlocks(text);
    // Series beyond these may follow; the ones named here must read exactly so, in this order.
    assert.deepEqual(
      Object.fromEntries(Object.keys(expected).map((name) => [name, blocks.get(name)])),
      expected,
    );
    const order = [...blocks.keys()].filter((name) => name in expected);
    assert.deepEqual(order, Object.keys(expected));
    assert.equal([...blocks.values()].map((b) => b.join("\n")).join("\n") + "\n", text, "the text is these blocks and nothing else");
  });

  const escapes: [what: string, name: string, label: string][] = [
    ["a double quote", 'my"app', 'profile="my\\"app"'],
    ["a backslash", "my\\app", 'profile="my\\\\app"'],
    ["a newline", "my\napp", 'profile="my\\napp"'],
    ["all three, backslash first", 'a\\"b\nc', 'profile="a\\\\\\"b\\nc"'],
    ["a slash (nested profile names stay as given)", "hail/myapp", 'profile="hail/myapp"'],
  ];
  for (const [what, name, label] of escapes) {
    it(`escapes ${what} in the profile label`, () => {
      const text = renderMetrics([profile(name)]);
      assert.deepEqual(samplesOf(text, "hail_rollbacks_total"), [`hail_rollbacks_total{${label}} 0`]);
      assert.deepEqual(samplesOf(text, "hail_deployments_total"), [
        `hail_deployments_total{${label},result="success"} 0`,
        `hail_deployments_total{${label},result="failed"} 0`,
      ]);
      // A raw newline in a label would split a sample over two lines.
      assert.equal(text.split("\n").filter((l) => l !== "" && !l.startsWith("#") && !l.startsWith("hail_")).length, 0);
    });
  }

  const values: [what: string, p: ProfileMetrics, family: string, line: string][] = [
    ["an unknown build id is NaN", profile("p", {}, null), "hail_deployed_build_id", 'hail_deployed_build_id{profile="p"} NaN'],
    ["build id 0 is 0, not NaN", profile("p", {}, 0), "hail_deployed_build_id", 'hail_deployed_build_id{profile="p"} 0'],
    ["a never-checked profile has last check 0", profile("p"), "hail_last_check_timestamp_seconds", 'hail_last_check_timestamp_seconds{profile="p"} 0'],
    ["a never-successful profile has last success 0", profile("p"), "hail_last_success_timestamp_seconds", 'hail_last_success_timestamp_seconds{profile="p"} 0'],
    ["a timestamp is unix seconds", profile("p", { lastSuccessAt: "2023-11-14T22:13:20.000Z" }), "hail_last_success_timestamp_seconds", 'hail_last_success_timestamp_seconds{profile="p"} 1700000000'],
    ["an offset timestamp is converted to UTC seconds", profile("p", { lastCheckAt: "2023-11-15T00:13:20.000+02:00" }), "hail_last_check_timestamp_seconds", 'hail_last_check_timestamp_seconds{profile="p"} 1700000000'],
    ["up to date is 1", profile("p", { upToDate: true }), "hail_up_to_date", 'hail_up_to_date{profile="p"} 1'],
    ["not up to date is 0", profile("p", { upToDate: false }), "hail_up_to_date", 'hail_up_to_date{profile="p"} 0'],
  ];
  for (const [what, p, family, line] of values) {
    it(what, () => {
      assert.deepEqual(samplesOf(renderMetrics([p]), family), [line]);
    });
  }

  it("renders every error kind, 0 when never seen: the contract's kinds and environment, never locked", () => {
    const text = renderMetrics([profile("p", { errors: { nix: 4, locked: 9, internal: 2, environment: 3 } })]);
    assert.deepEqual(samplesOf(text, "hail_errors_total"), [
      'hail_errors_total{profile="p",kind="usage"} 0',
      'hail_errors_total{profile="p",kind="invalid_response"} 0',
      'hail_errors_total{profile="p",kind="unavailable"} 0',
      'hail_errors_total{profile="p",kind="not_ready"} 0',
      'hail_errors_total{profile="p",kind="nix"} 4',
      'hail_errors_total{profile="p",kind="activation"} 0',
      'hail_errors_total{profile="p",kind="environment"} 3',
      'hail_errors_total{profile="p",kind="internal"} 2',
    ]);
  });

  it("groups all profiles under one HELP and TYPE per family", () => {
    const text = renderMetrics([profile("a", { upToDate: true }, 1), profile("b", {}, 2)]);
    assert.equal(text.split("\n").filter((l) => l === "# TYPE hail_up_to_date gauge").length, 1);
    for (const name of familyBlocks(text).keys()) assert.equal(text.split("\n").filter((l) => l.startsWith(`# TYPE ${name} `)).length, 1, name);
    assert.deepEqual(samplesOf(text, "hail_up_to_date"), ['hail_up_to_date{profile="a"} 1', 'hail_up_to_date{profile="b"} 0']);
    assert.deepEqual(samplesOf(text, "hail_deployed_build_id"), ['hail_deployed_build_id{profile="a"} 1', 'hail_deployed_build_id{profile="b"} 2']);
    // A family's samples must follow its own TYPE line, never another family's.
    const lines = text.split("\n");
    const typeLine = lines.indexOf("# TYPE hail_deployed_build_id gauge");
    const nextHelp = lines.findIndex((l, i) => i > typeLine && l.startsWith("# HELP"));
    assert.deepEqual(lines.slice(typeLine + 1, nextHelp), samplesOf(text, "hail_deployed_build_id"));
  });

  it("hail_build_info: 1 for each profile, labelled with hail's version and commit and the Node.js running it", () => {
    const text = renderMetrics([profile("a"), profile("b")]);
    const identity = `version="${BUILD_INFO.version}",commit="${BUILD_INFO.commit ?? ""}",nodejs="${process.version}"`;
    assert.deepEqual(familyBlocks(text).get("hail_build_info"), [
      "# HELP hail_build_info always 1; labels: the hail version, its commit and the Node.js running it",
      "# TYPE hail_build_info gauge",
      `hail_build_info{profile="a",${identity}} 1`,
      `hail_build_info{profile="b",${identity}} 1`,
    ]);
  });

  it("ends with a newline (the textfile collector drops a file whose last line is cut)", () => {
    const text = renderMetrics([profile("p")]);
    assert.ok(text.endsWith('kind="internal"} 0\n'), JSON.stringify(text.slice(-40)));
    assert.ok(!text.endsWith("\n\n"));
  });
});

describe("promtool check metrics", () => {
  it("accepts the exposition, with escaped labels, NaN and several profiles", async () => {
    const text = renderMetrics([
      profile('a"b\\c\nd', { upToDate: true, lastCheckAt: "2024-01-02T03:04:05.500Z", deployments: { success: 2, failed: 1 }, rollbacks: 1, errors: { nix: 1 } }, null),
      profile("hail/myapp", {}, 7),
    ]);
    const r = await promtoolCheck(text);
    assert.equal(r.exitCode, 0, r.output);
  });

  it("is a real check: it refuses a counter without _total (so exit 0 above means something)", async () => {
    const r = await promtoolCheck("# HELP hail_bad a counter\n# TYPE hail_bad counter\nhail_bad 1\n");
    assert.notEqual(r.exitCode, 0);
  });
});

describe("renderMetrics with the daemon's own counters", () => {
  it("hail_poll_requests_rejected_total: one counter, the process's count on every profile", () => {
    const text = renderMetrics([profile("a"), profile("b")], { pollRequestsRejected: 7 });
    assert.deepEqual(samplesOf(text, "hail_poll_requests_rejected_total"), [
      'hail_poll_requests_rejected_total{profile="a"} 7',
      'hail_poll_requests_rejected_total{profile="b"} 7',
    ]);
    assert.equal(text.split("\n").filter((l) => l === "# TYPE hail_poll_requests_rejected_total counter").length, 1);
  });

  it("a one-shot (no daemon counters) has no such series", () => {
    assert.deepEqual(samplesOf(renderMetrics([profile("a")]), "hail_poll_requests_rejected_total"), []);
  });
});

describe("renderMetrics with a signed release (--release-manifest)", () => {
  const release = {
    url: "https://releases.example.org/myapp.json",
    build: 100,
    principal: "alice@example.org",
    fingerprint: "SHA256:sGthoO4pPBmv940PO/PzWNNbT7ByWwzB3er3Wt27OJ0",
    expires: "2027-01-01T00:00:00Z",
    waiting: { gateBuildId: 103, since: "2026-12-01T10:00:00.000Z" },
  };
  const signed: ProfileMetrics = { ...profile("myapp", { errors: { "signer-unknown": 2 } }), release };

  it("the signed build with its signer, the expiry, the wait, and each refusal kind, for that target only", async () => {
    const text = renderMetrics([signed, profile("other")]);
    assert.deepEqual(samplesOf(text, "hail_release_signed_build"), [
      'hail_release_signed_build{profile="myapp",principal="alice@example.org",fingerprint="SHA256:sGthoO4pPBmv940PO/PzWNNbT7ByWwzB3er3Wt27OJ0"} 100',
    ]);
    assert.deepEqual(samplesOf(text, "hail_release_expiry_timestamp_seconds"), ['hail_release_expiry_timestamp_seconds{profile="myapp"} 1798761600']);
    assert.deepEqual(samplesOf(text, "hail_release_waiting_since_timestamp_seconds"), ['hail_release_waiting_since_timestamp_seconds{profile="myapp"} 1796119200']);
    const errors = samplesOf(text, "hail_errors_total");
    assert.ok(errors.includes('hail_errors_total{profile="myapp",kind="signer-unknown"} 2'), errors.join("\n"));
    assert.ok(errors.includes('hail_errors_total{profile="myapp",kind="replay"} 0'));
    assert.ok(!errors.some((l) => l.startsWith('hail_errors_total{profile="other",kind="replay"')), "no release kinds for a target without a release");
    const r = await promtoolCheck(text);
    assert.equal(r.exitCode, 0, r.output);
  });

  it("no release series at all without a --release-manifest target; no waiting is 0, no expiry no sample", () => {
    assert.ok(!renderMetrics([profile("other")]).includes("hail_release_"));
    const text = renderMetrics([{ ...signed, release: { ...release, expires: null, waiting: null } }]);
    assert.deepEqual(samplesOf(text, "hail_release_expiry_timestamp_seconds"), []);
    assert.deepEqual(samplesOf(text, "hail_release_waiting_since_timestamp_seconds"), ['hail_release_waiting_since_timestamp_seconds{profile="myapp"} 0']);
  });
});
