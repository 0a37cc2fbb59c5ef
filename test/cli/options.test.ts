import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import type { RawOptions } from "../../src/cli/option-table.js";
import { DEFAULT_NETRC } from "../../src/cli/option-table.js";
import { logChoice, toAgentConfig, toTarget } from "../../src/cli/options.js";
import { UsageError } from "../../src/errors.js";

const GATE = "https://hydra.example/job/acme/production/release_gate";
const JOB = "https://hydra.example/job/acme/production/app-server";

/** What commander hands over for `hail run` with only some of its defaults, plus `fields`. */
function raw(fields: Partial<RawOptions> = {}): RawOptions {
  return {
    profilesDir: "/nix/var/nix/profiles",
    output: "out",
    pollPeriod: "5m",
    stateDir: "/var/lib/hail",
    activateTimeout: "10m",
    rollback: true,
    logLevel: "info",
    timeout: "30s",
    rolloutWindow: "0",
    ...fields,
  };
}

const gateRaw = (fields: Partial<RawOptions> = {}) => raw({ gateJob: GATE, constituent: "app-server", profile: "myapp", ...fields });

function usageError(...fragments: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 64);
    for (const fragment of fragments) assert.ok(err.message.includes(fragment), `${JSON.stringify(fragment)} not in: ${err.message}`);
    return true;
  };
}

describe("toTarget", () => {
  it("gate job and constituent", () => {
    const target = toTarget(gateRaw({ profile: "hail/myapp", output: "bin" }));
    assert.deepEqual(target, {
      source: {
        kind: "gate",
        job: { baseUrl: "https://hydra.example", project: "acme", jobset: "production", job: "release_gate", url: GATE },
        constituent: "app-server",
      },
      profile: {
        name: "hail/myapp",
        path: "/nix/var/nix/profiles/hail/myapp",
        stateKey: "nix%2Fvar%2Fnix%2Fprofiles%2Fhail%2Fmyapp",
        legacyStateKey: "hail%2Fmyapp",
      },
      output: "bin",
    });
  });

  it("plain job", () => {
    const target = toTarget(raw({ jobUri: JOB, profile: "/srv/profiles/app" }));
    assert.equal(target.source.kind, "job");
    assert.equal(target.source.job.job, "app-server");
    assert.deepEqual({ name: target.profile.name, path: target.profile.path }, { name: "/srv/profiles/app", path: "/srv/profiles/app" });
    assert.equal(target.output, "out");
  });

  const refused: Array<[string, Partial<RawOptions>, string[]]> = [
    ["gate without constituent", { gateJob: GATE, profile: "myapp" }, ["--gate-job needs --constituent"]],
    ["both gate and job", { gateJob: GATE, constituent: "app-server", jobUri: JOB, profile: "myapp" }, ["--gate-job", "--job-uri", "not both"]],
    ["constituent with job-uri", { jobUri: JOB, constituent: "app-server", profile: "myapp" }, ["--constituent", "--gate-job"]],
    ["no target", { profile: "myapp" }, ["no target", "--gate-job", "--job-uri"]],
    ["no target, constituent alone", { constituent: "app-server", profile: "myapp" }, ["no target"]],
    ["no profile", { gateJob: GATE, constituent: "app-server" }, ["--profile is required"]],
    ["empty profile", { gateJob: GATE, constituent: "app-server", profile: "" }, ["--profile"]],
    ["profile with ..", { gateJob: GATE, constituent: "app-server", profile: "../etc" }, ["--profile", ".."]],
    ["bad job URL", { jobUri: "https://hydra.example/build/12", profile: "myapp" }, ["not a Hydra job URL"]],
    ["an empty --profiles-dir (the current directory)", { jobUri: JOB, profile: "myapp", profilesDir: "" }, ["--profiles-dir is empty"]],
    ["a blank --profiles-dir", { jobUri: JOB, profile: "myapp", profilesDir: "  " }, ["--profiles-dir is empty"]],
  ];
  for (const [what, fields, fragments] of refused) {
    it(`refuses: ${what}`, () => assert.throws(() => toTarget(raw(fields)), usageError(...fragments)));
  }
});

describe("toAgentConfig", () => {
  it("applies the defaults", () => {
    const config = toAgentConfig(gateRaw(), false);
    assert.equal(config.stateDir, "/var/lib/hail");
    assert.equal(config.pollPeriodMs, 300_000);
    assert.equal(config.oneshot, false);
    assert.equal(config.timeoutMs, 30_000);
    assert.equal(config.activateTimeoutMs, 600_000);
    assert.equal(config.healthCheck, null);
    assert.equal(config.rollback, true);
    assert.equal(config.logLevel, "info");
    assert.equal(config.target.profile.path, "/nix/var/nix/profiles/myapp");
  });

  const periods: Array<[string, number]> = [
    ["5", 300_000],
    ["1", 60_000],
    ["30s", 30_000],
    ["1h", 3_600_000],
  ];
  for (const [text, ms] of periods) {
    it(`--poll-period ${text} -> ${ms} ms`, () => assert.equal(toAgentConfig(gateRaw({ pollPeriod: text }), false).pollPeriodMs, ms));
  }

  it("--timeout and --activate-timeout read bare numbers as seconds", () => {
    const config = toAgentConfig(gateRaw({ timeout: "5", activateTimeout: "90" }), false);
    assert.equal(config.timeoutMs, 5_000);
    assert.equal(config.activateTimeoutMs, 90_000);
  });

  const zero: Array<[string, Partial<RawOptions>]> = [
    ["--poll-period", { pollPeriod: "0" }],
    ["--poll-period", { pollPeriod: "0m" }],
    ["--timeout", { timeout: "0s" }],
    ["--activate-timeout", { activateTimeout: "0" }],
  ];
  for (const [flag, fields] of zero) {
    it(`refuses a zero ${flag} (${JSON.stringify(Object.values(fields)[0])})`, () => {
      assert.throws(() => toAgentConfig(gateRaw(fields), false), usageError(flag, "longer than zero"));
    });
  }

  it("refuses an unreadable duration, naming the flag", () => {
    assert.throws(() => toAgentConfig(gateRaw({ pollPeriod: "soon" }), false), usageError("--poll-period", "soon"));
  });

  it("--oneshot", () => assert.equal(toAgentConfig(gateRaw({ oneshot: true }), false).oneshot, true));

  it("--health-check is split into an argv", () => {
    const config = toAgentConfig(gateRaw({ healthCheck: `curl -fsS "http://127.0.0.1:8080/health check"` }), false);
    assert.deepEqual(config.healthCheck, ["curl", "-fsS", "http://127.0.0.1:8080/health check"]);
  });

  it("--health-check that needs a shell is refused", () => {
    assert.throws(() => toAgentConfig(gateRaw({ healthCheck: "curl x | grep ok" }), false), usageError("--health-check", '"|"'));
  });

  it("--no-rollback", () => assert.equal(toAgentConfig(gateRaw({ rollback: false }), false).rollback, false));

  it("an explicit --netrc-file is kept as explicit, whether or not it exists", () => {
    const config = toAgentConfig(gateRaw({ netrcFile: "/nonexistent/hail-test-netrc" }), false);
    assert.deepEqual(config.netrc, { path: "/nonexistent/hail-test-netrc", explicit: true });
  });

  it(`without --netrc-file, ${DEFAULT_NETRC} is used only when it exists, and not as explicit`, () => {
    const expected = existsSync(DEFAULT_NETRC) ? { path: DEFAULT_NETRC, explicit: false } : null;
    assert.deepEqual(toAgentConfig(gateRaw(), false).netrc, expected);
  });

  it("passes the log choice through", () => {
    const config = toAgentConfig(gateRaw({ logLevel: "debug" }), true);
    assert.equal(config.logFormat, "pretty");
    assert.equal(config.logLevel, "debug");
  });
});

describe("logChoice", () => {
  const cases: Array<[string | undefined, boolean, "pretty" | "json"]> = [
    [undefined, true, "pretty"],
    [undefined, false, "json"],
    ["json", true, "json"],
    ["pretty", false, "pretty"],
  ];
  for (const [format, tty, expected] of cases) {
    it(`--log-format ${format ?? "(unset)"} on ${tty ? "a TTY" : "no TTY"} -> ${expected}`, () => {
      const given = format === undefined ? { logLevel: "info" } : { logFormat: format, logLevel: "info" };
      assert.deepEqual(logChoice(given, tty), { logFormat: expected, logLevel: "info" });
    });
  }

  for (const level of ["debug", "info", "warn", "error"]) {
    it(`--log-level ${level}`, () => assert.equal(logChoice({ logLevel: level }, false).logLevel, level));
  }

  it("refuses a bad log level", () => {
    assert.throws(() => logChoice({ logLevel: "verbose" }, false), usageError("--log-level verbose", "debug, info, warn or error"));
  });

  it("refuses a bad log format", () => {
    assert.throws(() => logChoice({ logFormat: "xml", logLevel: "info" }, false), usageError("--log-format xml", "pretty or json"));
  });
});
