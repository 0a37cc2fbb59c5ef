// What a real Hydra answers that hail must read right: the three 404s, a renamed jobset,
// duplicate and aliased constituents, a build of another job. The built CLI, the test server
// answering as Hydra's controllers do, and real Nix.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { greenGate, worldAtGreenGate, worldWithApps, type World } from "./world.js";

const WARN = '"logLevelName":"WARN"';

/** The messages of hail's JSON log lines, one a line, quotes unescaped. */
function messages(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => String((JSON.parse(l) as { msg?: unknown }).msg ?? ""))
    .join("\n");
}

describe("Hydra's 404s told apart: --oneshot and plan", () => {
  let w: World;
  let app1: string;

  before(async () => {
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
    // A job that exists but never succeeded: "no successful build yet".
    w.hydra.addBuild({ id: 150, project: "myproject", jobset: "main", job: "flaky", finished: true, buildstatus: 1, jobsetevals: [10], outputs: { out: app1 } });
  });
  after(() => w.close());
  beforeEach(() => {
    w.hydra.withoutConstituentsRoute = false;
  });

  const gate = (url: string, constituent = "myapp") => ["--gate-job", url, "--constituent", constituent, "--profile", "myapp", ...w.labArgs()];
  const job = (url: string) => ["--job-uri", url, "--profile", "plain", ...w.labArgs()];

  const cases: Array<[string, () => string[], number, RegExp]> = [
    ["a missing project", () => gate(`${w.hydra.url}/job/nosuchproject/main/release_gate`), 64, /configuration error: Hydra has no project "nosuchproject".*Project ‘nosuchproject’ doesn't exist/],
    ["a missing jobset", () => gate(`${w.hydra.url}/job/myproject/nosuchjobset/release_gate`), 64, /configuration error: Hydra has no jobset "nosuchjobset" in project "myproject".*Jobset ‘nosuchjobset’ doesn't exist/],
    ["a missing gate job, listing the jobs there are", () => gate(`${w.hydra.url}/job/myproject/main/release_gat`), 64, /configuration error: jobset "myproject\/main" has no job "release_gat".*jobs with recent builds there: flaky, myapp, release_gate, tests/],
    ["a missing --job-uri job", () => job(`${w.hydra.url}/job/myproject/main/nosuchjob`), 64, /has no job "nosuchjob"/],
    ["a job with no successful build yet", () => job(`${w.hydra.url}/job/myproject/main/flaky`), 75, /nothing deployable yet.*There is no successful build to redirect to/],
  ];

  for (const [what, args, code, message] of cases) {
    it(`${what}: oneshot exits ${code} naming it`, async () => {
      const r = await w.hail([...args(), "--oneshot"]);
      assert.equal(r.code, code, r.stderr);
      assert.match(messages(r.stderr), message);
      assert.equal(await w.profileTarget("myapp"), null);
    });

    it(`${what}: plan exits ${code} naming it`, async () => {
      const r = await w.hail(["plan", ...args(), "--json"]);
      assert.equal(r.code, code, r.stderr);
      const body = JSON.parse(r.stdout) as { error: { message: string; exitCode: number; kind: string } };
      assert.equal(body.error.exitCode, code);
      assert.equal(body.error.kind, code === 64 ? "usage" : "not_ready");
      assert.match(body.error.message, message);
    });
  }

  it("a Hydra without /build/ID/constituents: 64, too old for --gate-job", async () => {
    w.hydra.withoutConstituentsRoute = true;
    for (const argv of [[...gate(w.gateUrl), "--oneshot"], ["plan", ...gate(w.gateUrl)]]) {
      const r = await w.hail(argv);
      assert.equal(r.code, 64, r.stderr);
      assert.match(messages(r.stderr), /Page not found\..*too old for --gate-job.*--job-uri/);
    }
  });
});

describe("Hydra's 404s in the daemon", () => {
  let w: World;

  before(async () => {
    let app1: string;
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
  });
  after(() => w.close());

  it("a missing job is a configuration error at every poll, counted as kind=usage; the daemon goes on", async () => {
    const metrics = path.join(w.lab.root, "daemon.prom");
    const url = `${w.hydra.url}/job/myproject/main/release_gat`;
    const daemon = w.startDaemon(["--gate-job", url, "--constituent", "myapp", "--profile", "myapp", ...w.labArgs(), "--poll-period", "1s", "--metrics-file", metrics]);
    const errors = () => daemon.logLines().filter((l) => l["errorKind"] === "usage" && String(l["msg"]).startsWith('configuration error: jobset "myproject/main" has no job "release_gat"'));
    await daemon.waitFor(() => errors().length >= 3, "three polls with the configuration error");
    assert.ok(daemon.alive, "the daemon keeps polling");
    const usage = /^hail_errors_total\{profile="myapp",kind="usage"\} (\d+)$/m.exec(await readFile(metrics, "utf8"));
    assert.ok(usage?.[1] !== undefined && Number(usage[1]) >= 2, `kind="usage" is counted:\n${await readFile(metrics, "utf8")}`);
    assert.equal(await daemon.stop(), 0);
  });
});

describe("a renamed jobset, and redirects to other hosts", () => {
  let w: World;
  let app1: string;

  before(async () => {
    ({ world: w, apps: [app1] } = await worldAtGreenGate("1"));
    w.hydra.renameJobset("myproject", "old-main", "main");
  });
  after(() => w.close());

  it("follows Hydra's 301 to the new job URL, deploys, and warns with the new URL", async () => {
    const old = `${w.hydra.url}/job/myproject/old-main/release_gate`;
    const r = await w.hail(["--gate-job", old, "--constituent", "myapp", "--profile", "myapp", ...w.labArgs(), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("myapp"), app1);
    const warned = r.stderr.split("\n").filter((l) => l.includes(WARN) && l.includes("renamed jobset") && l.includes(w.gateUrl));
    assert.equal(warned.length, 1, r.stderr);
  });

  it("refuses a 301 to another host (65), without asking it", async () => {
    const old = `${w.hydra.url}/job/myproject/gone/release_gate`;
    w.hydra.override("/job/myproject/gone/release_gate/latest-finished", {
      status: 301,
      body: "",
      headers: { Location: "http://elsewhere.invalid/job/myproject/main/release_gate/latest-finished" },
    });
    const r = await w.hail(["--gate-job", old, "--constituent", "myapp", "--profile", "other", ...w.labArgs(), "--oneshot"]);
    assert.equal(r.code, 65, r.stderr);
    assert.match(messages(r.stderr), /redirects to another host \(http:\/\/elsewhere\.invalid/);
    assert.equal(await w.profileTarget("other"), null);
  });

  it("a gate build of another job than the one asked for is invalid data (65)", async () => {
    w.hydra.addBuild({ id: 500, project: "myproject", jobset: "staging", job: "release_gate", finished: true, buildstatus: 0, jobsetevals: [50], outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate" }, constituents: [101] });
    w.hydra.override("/job/myproject/main/release_gate/latest-finished", { status: 302, body: "", headers: { Location: `${w.hydra.url}/build/500` } }, { times: 1 });
    const r = await w.hail([...w.gateArgs("wrong"), "--oneshot"]);
    assert.equal(r.code, 65, r.stderr);
    assert.match(messages(r.stderr), /gate build 500 is of myproject\/staging\/release_gate, not of myproject\/main\/release_gate/);
    assert.equal(await w.profileTarget("wrong"), null);
  });
});

describe("constituents: duplicates and aliases", () => {
  let w: World;
  let app1: string;
  let app2: string;

  before(async () => {
    ({ world: w, apps: [app1, app2] } = await worldWithApps("1", "2"));
  });
  after(() => w.close());

  it("two constituents with the selected name: 65 naming both builds, nothing deployed", async () => {
    for (const b of greenGate(100, 10, app1)) w.hydra.addBuild(b);
    w.hydra.addBuild({ id: 103, project: "myproject", jobset: "main", job: "myapp", finished: true, buildstatus: 0, jobsetevals: [10], outputs: { out: app2 } });
    w.hydra.updateBuild(100, { constituents: [101, 102, 103] });
    const r = await w.hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 65, r.stderr);
    assert.match(messages(r.stderr), /2 constituents named "myapp" \(builds 101 and 103\)/);
    assert.equal(await w.profileTarget("myapp"), null);
    assert.deepEqual(await w.nixCalls(), []);
  });

  it("a constituent listed under a shorter alias: the error lists what there is and explains aliases", async () => {
    w.hydra.updateBuild(100, { constituents: [101, 102] });
    const r = await w.hail([...w.gateArgs("myapp", "myapp-server"), "--oneshot"]);
    assert.equal(r.code, 65, r.stderr);
    assert.match(messages(r.stderr), /no constituent named "myapp-server"; it has: myapp, tests\. Check --constituent \(Hydra lists jobs that share one derivation once, under the shortest of their names\)/);
  });
});

describe("bodies shaped like Hydra's own (fixtures/hydra/hydra-shaped), deployed with real Nix", () => {
  let w: World;
  let app1: string;
  let app2: string;
  const shaped = (name: string) => readFile(new URL(`../../fixtures/hydra/hydra-shaped/${name}`, import.meta.url), "utf8");

  before(async () => {
    ({ world: w, apps: [app1, app2] } = await worldWithApps("1", "2"));
  });
  after(() => w.close());

  it("a gate and its constituents in as_json's shape (shuffled keys, a cached build, a status-6 sibling) deploy", async () => {
    const constituents = (await shaped("gate-constituents.json")).replaceAll("/nix/store/4lmnzx45iy43kwjqn1xna7z3dj8grrz5-app-server-2.14.0", app1);
    w.hydra.override("/job/acme/production/release_gate/latest-finished", { status: 302, body: "", headers: { Location: `${w.hydra.url}/build/281734` } });
    w.hydra.override("/build/281734", { status: 200, body: await shaped("gate-build.json") });
    w.hydra.override("/build/281734/constituents", { status: 200, body: constituents });
    const gateUrl = `${w.hydra.url}/job/acme/production/release_gate`;
    const r = await w.hail(["--gate-job", gateUrl, "--constituent", "app-server", "--profile", "gated", ...w.labArgs(), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployed build 281701 /);
    assert.equal(await w.profileTarget("gated"), app1);
  });

  it("an old instance's build (buildmetrics null, no drvpath) deploys with --job-uri", async () => {
    const body = (await shaped("build-old-instance.json")).replaceAll("/nix/store/0m5cvbmhxp2kmh8k3c3idi4x4rzp3w66-app-server-0.9.1", app2);
    w.hydra.override("/job/acme/production/app-server/latest", { status: 302, body: "", headers: { Location: `${w.hydra.url}/build/95012` } });
    w.hydra.override("/build/95012", { status: 200, body });
    const r = await w.hail(["--job-uri", `${w.hydra.url}/job/acme/production/app-server`, "--profile", "plain", ...w.labArgs(), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployed build 95012 /);
    assert.equal(await w.profileTarget("plain"), app2);
  });
});
