import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../../src/errors.js";
import { isLoopbackHost, refuseInsecureUrl } from "../../src/hydra/insecure-http.js";
import { toTarget } from "../../src/cli/options.js";

const JOB = "/job/myproject/main/release_gate";

describe("HTTPS by default", () => {
  it("loopback is this machine: 127.0.0.0/8, ::1 and localhost, as the URL parser writes them", () => {
    for (const url of ["http://127.0.0.1:3000", "http://127.1", "http://127.255.0.9", "http://[::1]:8080", "http://[::ffff:127.0.0.1]", "http://LOCALHOST", "http://localhost."]) {
      assert.ok(isLoopbackHost(new URL(url).hostname), url);
    }
    for (const url of ["http://10.0.0.5", "http://128.0.0.1", "http://[::2]", "http://localhost.example.org", "http://127.0.0.1.example.org", "http://[::ffff:10.0.0.1]"]) {
      assert.ok(!isLoopbackHost(new URL(url).hostname), url);
    }
  });

  it("refuses plain http:// off this machine, naming the flag, the host and what to do", () => {
    assert.throws(
      () => refuseInsecureUrl(`http://hydra.example.org${JOB}`, "--gate-job", false),
      (err: unknown) => {
        assert.ok(err instanceof UsageError);
        assert.equal(err.exitCode, 64);
        assert.match(err.message, /^--gate-job http:\/\/hydra\.example\.org\/job\/myproject\/main\/release_gate: plain http:\/\/ to hydra\.example\.org, which is not this machine/);
        assert.match(err.hint ?? "", /use https:\/\/hydra\.example\.org\/job\/myproject\/main\/release_gate, or, on a network you trust, give --allow-insecure-http \(config "allowInsecureHttp": true\)/);
        return true;
      },
    );
  });

  it("lets through https://, loopback, an allowed http:// and URLs it cannot read (left to the flag's own checks)", () => {
    for (const url of [`https://hydra.example.org${JOB}`, `http://127.0.0.1:3000${JOB}`, `http://[::1]${JOB}`, "not a url"]) {
      refuseInsecureUrl(url, "--gate-job", false);
    }
    refuseInsecureUrl(`http://hydra.example.org${JOB}`, "--gate-job", true);
  });

  it("never repeats credentials from the URL", () => {
    assert.throws(() => refuseInsecureUrl(`http://bot:s3cret@hydra.example.org${JOB}`, "--job-uri", false), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.doesNotMatch(`${err.message} ${err.hint}`, /s3cret|bot:/);
      return true;
    });
  });

  it("a target's --gate-job and --job-uri are checked, unless allowInsecureHttp", () => {
    const base = { profile: "/tmp/hail-test-profile", profilesDir: "/nix/var/nix/profiles", output: "out" };
    assert.throws(() => toTarget({ ...base, gateJob: `http://hydra.example.org${JOB}`, constituent: "myapp" }), /^UsageError: --gate-job http:/);
    assert.throws(() => toTarget({ ...base, jobUri: `http://hydra.example.org${JOB}` }), /^UsageError: --job-uri http:/);
    const allowed = toTarget({ ...base, jobUri: `http://hydra.example.org${JOB}`, allowInsecureHttp: true });
    assert.equal(allowed.source.job.baseUrl, "http://hydra.example.org");
  });
});
