import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkBuildIsOf, resolveGateBuild, resolveJobBuild } from "../../src/resolve/resolution.js";
import { InvalidResponse, NotReady } from "../../src/errors.js";
import type { HydraBuild } from "../../src/hydra/schema.js";
import { gateBuild, HASH, hydraBuild, storePath } from "./builds.js";

const gateUrl = "https://hydra.example/build/281734";
const constituentsUrl = `${gateUrl}/constituents`;
const opts = { constituent: "app-server", output: "out", storeDir: "/nix/store", gateUrl, constituentsUrl };

function resolveGate(gate: HydraBuild, constituents: HydraBuild[], overrides: Partial<typeof opts> = {}) {
  return resolveGateBuild(gate, constituents, { ...opts, ...overrides });
}

/** An assert.throws matcher: the error class, its exit code, and every fragment in the message. */
function fails(type: typeof NotReady | typeof InvalidResponse, exitCode: number, ...fragments: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.equal(err.exitCode, exitCode);
    for (const fragment of fragments) assert.ok(err.message.includes(fragment), `${JSON.stringify(fragment)} not in: ${err.message}`);
    return true;
  };
}

describe("resolveGateBuild", () => {
  it("resolves a green gate and a green constituent", () => {
    const gate = gateBuild({ jobsetevals: [19022, 19017, 18999], stoptime: 1_700_000_900 });
    const app = hydraBuild({ id: 281735, job: "app-server", stoptime: 1_700_000_200 });
    const worker = hydraBuild({ id: 281736, job: "worker", buildoutputs: { out: { path: storePath(HASH.b, "worker") } } });
    assert.deepEqual(resolveGate(gate, [worker, app]), {
      gateBuildId: 281734,
      buildId: 281735,
      job: "app-server",
      evals: [18999, 19017, 19022],
      storePath: storePath(HASH.a, "app-server-1.0"),
      stoptime: 1_700_000_900,
    });
  });

  it("keeps the newest hundred of a million shared evaluations", { timeout: 120_000 }, () => {
    const evals = Array.from({ length: 1_000_000 }, (_, i) => i + 1);
    const resolution = resolveGate(gateBuild({ jobsetevals: evals }), [hydraBuild({ jobsetevals: [...evals].reverse() })]);
    assert.equal(resolution.evals.length, 100);
    assert.deepEqual([resolution.evals[0], resolution.evals.at(-1)], [999_901, 1_000_000]);
  });

  it("does not reorder the gate's evals in place", () => {
    const gate = gateBuild({ jobsetevals: [19022, 19017] });
    resolveGate(gate, [hydraBuild()]);
    assert.deepEqual(gate.jobsetevals, [19022, 19017]);
  });

  it("deploys the output asked for", () => {
    const app = hydraBuild({
      buildoutputs: { out: { path: storePath(HASH.a, "app") }, doc: { path: storePath(HASH.b, "app-doc") } },
    });
    assert.equal(resolveGate(gateBuild(), [app], { output: "doc" }).storePath, storePath(HASH.b, "app-doc"));
  });

  it("checks paths against the store dir it is given", () => {
    const custom = "/tmp/hail-store";
    const app = hydraBuild({ buildoutputs: { out: { path: storePath(HASH.a, "app", custom) } } });
    assert.equal(resolveGate(gateBuild(), [app], { storeDir: custom }).storePath, `${custom}/${HASH.a}-app`);
  });

  describe("not ready (75)", () => {
    const cases: Array<[string, HydraBuild, HydraBuild, string[]]> = [
      ["gate not finished", gateBuild({ finished: false, buildstatus: null }), hydraBuild(), ["gate build 281734", "not finished"]],
      [
        "gate restarted: finished false, old buildstatus 0",
        gateBuild({ finished: false, buildstatus: 0 }),
        hydraBuild(),
        ["gate build 281734", "not finished"],
      ],
      ["gate failed", gateBuild({ buildstatus: 1 }), hydraBuild(), ["gate build 281734", "buildstatus 1", "failed"]],
      [
        "gate finished with buildstatus null",
        gateBuild({ buildstatus: null }),
        hydraBuild(),
        ["gate build 281734", "did not succeed", "unknown"],
      ],
      [
        "status 6 constituent inside a green gate",
        gateBuild(),
        hydraBuild({ buildstatus: 6 }),
        ["constituent app-server", "281735", "failed with output", constituentsUrl],
      ],
      [
        "constituent restarted",
        gateBuild(),
        hydraBuild({ finished: false, buildstatus: 0 }),
        ["constituent app-server", "not finished"],
      ],
      [
        "constituent with an unknown status code",
        gateBuild(),
        hydraBuild({ buildstatus: 99 }),
        ["buildstatus 99", "not successful"],
      ],
    ];
    for (const [what, gate, constituent, fragments] of cases) {
      it(what, () => assert.throws(() => resolveGate(gate, [constituent]), fails(NotReady, 75, ...fragments)));
    }
  });

  describe("invalid response (65)", () => {
    it("missing constituent: lists the constituents there are and the URL", () => {
      const constituents = [hydraBuild({ job: "worker" }), hydraBuild({ job: "docs" })];
      assert.throws(
        () => resolveGate(gateBuild(), constituents),
        fails(InvalidResponse, 65, constituentsUrl, '"app-server"', "worker, docs", "--constituent", "shortest of their names"),
      );
    });

    it("two constituents with the selected name: refused, naming both builds, never first wins", () => {
      const constituents = [hydraBuild({ id: 281735, job: "app-server" }), hydraBuild({ id: 281790, job: "app-server" })];
      assert.throws(
        () => resolveGate(gateBuild(), constituents),
        fails(InvalidResponse, 65, constituentsUrl, '2 constituents named "app-server"', "builds 281735 and 281790"),
      );
    });

    it("no constituents at all: says it may not be an aggregate", () => {
      assert.throws(() => resolveGate(gateBuild(), []), fails(InvalidResponse, 65, constituentsUrl, "aggregate"));
    });

    it("constituent shares no evaluation with the gate", () => {
      const gate = gateBuild({ jobsetevals: [19022, 19017] });
      const app = hydraBuild({ jobsetevals: [18000] });
      assert.throws(
        () => resolveGate(gate, [app]),
        fails(InvalidResponse, 65, constituentsUrl, "no evaluation", "19022,19017", "18000"),
      );
    });

    // Issue 29: a million ids on each side took hours of Array.includes and stalled the daemon.
    it("a million evaluation ids on each side, none shared: refused in linear time, with a short message", { timeout: 120_000 }, () => {
      const gate = gateBuild({ jobsetevals: Array.from({ length: 1_000_000 }, (_, i) => i + 1) });
      const app = hydraBuild({ jobsetevals: Array.from({ length: 1_000_000 }, (_, i) => 2_000_000 - i) });
      assert.throws(
        () => resolveGate(gate, [app]),
        (err: unknown) => {
          fails(InvalidResponse, 65, "no evaluation", "gate evals 1…1000000 (1,000,000 ids)", "constituent evals 1000001…2000000 (1,000,000 ids)")(err);
          assert.ok((err as Error).message.length < 400, `a short message: ${(err as Error).message.length} characters`);
          return true;
        },
      );
    });

    it("a hundred thousand constituents, none the one asked for: the message names ten and counts the rest", () => {
      const constituents = Array.from({ length: 100_000 }, (_, i) => hydraBuild({ id: i + 1, job: `job${i + 1}` }));
      assert.throws(() => resolveGate(gateBuild(), constituents), (err: unknown) => {
        fails(InvalidResponse, 65, "it has: job1, job2,", "job10, … and 99,990 more")(err);
        assert.ok((err as Error).message.length < 600, `a short message: ${(err as Error).message.length} characters`);
        return true;
      });
    });

    it("constituent without evaluations", () => {
      assert.throws(() => resolveGate(gateBuild(), [hydraBuild({ jobsetevals: [] })]), fails(InvalidResponse, 65, "no evaluation"));
    });

    it("missing output name: lists the outputs there are", () => {
      const app = hydraBuild({
        buildoutputs: { out: { path: storePath(HASH.a, "app") }, bin: { path: storePath(HASH.b, "app-bin") } },
      });
      assert.throws(
        () => resolveGate(gateBuild(), [app], { output: "dev" }),
        (err: unknown) => fails(InvalidResponse, 65, constituentsUrl, '"dev"', "out, bin")(err) && err instanceof InvalidResponse && err.hint === "check --output",
      );
    });

    it("no outputs at all", () => {
      assert.throws(() => resolveGate(gateBuild(), [hydraBuild({ buildoutputs: {} })]), fails(InvalidResponse, 65, "none"));
    });

    it("output path null (a content-addressed derivation): not deployable yet (75), not bad data", () => {
      const app = hydraBuild({ buildoutputs: { out: { path: null } } });
      assert.throws(
        () => resolveGate(gateBuild(), [app]),
        fails(NotReady, 75, "build 281735", constituentsUrl, '"out"', "output path not known yet (content-addressed derivation)"),
      );
    });

    it("unsafe output path", () => {
      const unsafe = `/nix/store/${HASH.a}-app;reboot`;
      const app = hydraBuild({ buildoutputs: { out: { path: unsafe } } });
      assert.throws(() => resolveGate(gateBuild(), [app]), fails(InvalidResponse, 65, constituentsUrl, JSON.stringify(unsafe)));
    });

    it("output path outside the configured store dir", () => {
      assert.throws(
        () => resolveGate(gateBuild(), [hydraBuild()], { storeDir: "/tmp/hail-store" }),
        fails(InvalidResponse, 65, "/tmp/hail-store"),
      );
    });
  });
});

describe("resolveJobBuild", () => {
  const buildUrl = "https://hydra.example/build/281735";
  const jobOpts = { output: "out", storeDir: "/nix/store", buildUrl };

  it("resolves a green build with no gate", () => {
    const build = hydraBuild({ jobsetevals: [19022, 19017], stoptime: 1_700_000_200 });
    assert.deepEqual(resolveJobBuild(build, jobOpts), {
      gateBuildId: null,
      buildId: 281735,
      job: "app-server",
      evals: [19017, 19022],
      storePath: storePath(HASH.a, "app-server-1.0"),
      stoptime: 1_700_000_200,
    });
  });

  it("keeps a null stoptime", () => {
    assert.equal(resolveJobBuild(hydraBuild({ stoptime: null }), jobOpts).stoptime, null);
  });

  const refused: Array<[string, HydraBuild, typeof NotReady | typeof InvalidResponse, number, string[]]> = [
    ["not finished", hydraBuild({ finished: false, buildstatus: null }), NotReady, 75, ["job build 281735", buildUrl, "not finished"]],
    ["restarted", hydraBuild({ finished: false, buildstatus: 0 }), NotReady, 75, ["not finished"]],
    ["failed", hydraBuild({ buildstatus: 7 }), NotReady, 75, [buildUrl, "timed out"]],
    ["buildstatus null", hydraBuild({ buildstatus: null }), NotReady, 75, ["unknown"]],
    ["output path null", hydraBuild({ buildoutputs: { out: { path: null } } }), NotReady, 75, [buildUrl, "output path not known yet (content-addressed derivation)"]],
    [
      "unsafe output path",
      hydraBuild({ buildoutputs: { out: { path: `/nix/store/${HASH.a}-x/../../etc` } } }),
      InvalidResponse,
      65,
      [buildUrl, "not a plain store path"],
    ],
    ["missing output", hydraBuild({ buildoutputs: { bin: { path: storePath(HASH.a, "x") } } }), InvalidResponse, 65, [buildUrl, "bin"]],
  ];
  for (const [what, build, type, exitCode, fragments] of refused) {
    it(`refuses: ${what}`, () => assert.throws(() => resolveJobBuild(build, jobOpts), fails(type, exitCode, ...fragments)));
  }
});

describe("checkBuildIsOf", () => {
  const asked = { project: "acme", jobset: "production", job: "release_gate" };
  it("accepts the build of the job asked for", () => {
    assert.doesNotThrow(() => checkBuildIsOf(gateBuild(), asked, "gate", gateUrl));
  });
  for (const [field, value] of [["project", "other"], ["jobset", "staging"], ["job", "docs"]] as const) {
    it(`refuses a build of another ${field} (65), naming both`, () => {
      assert.throws(
        () => checkBuildIsOf(gateBuild({ [field]: value }), asked, "gate", gateUrl),
        fails(InvalidResponse, 65, gateUrl, "gate build 281734", "not of acme/production/release_gate"),
      );
    });
  }
});
