import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BuildSchema, ConstituentsSchema, describeZodError, HydraErrorBodySchema } from "../../src/hydra/schema.js";
import { fixture } from "./helpers.js";

const gate: Record<string, unknown> = JSON.parse(fixture("gate-build.json"));

function withFields(fields: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
  const build = { ...gate, ...fields };
  for (const key of drop) delete build[key];
  return build;
}

describe("BuildSchema on bodies shaped like Hydra's as_json (fixtures/hydra/hydra-shaped)", () => {
  it("reads a gate build", () => {
    const build = BuildSchema.parse(gate);
    assert.equal(build.id, 281734);
    assert.equal(build.finished, true);
    assert.equal(build.buildstatus, 0);
    assert.equal(build.job, "release_gate");
    assert.deepEqual(build.jobsetevals, [19022, 19017]);
    assert.equal(build.buildoutputs["out"]?.path, "/nix/store/l9r346p3d25vs4g5v37f3r3f28js97kb-release_gate");
    assert.equal(build.releasename, null);
    assert.ok(!("priority" in build), "keys hail does not use are dropped");
  });

  it("reads a queued build: not finished, status and times null", () => {
    const build = BuildSchema.parse(JSON.parse(fixture("build-queued.json")));
    assert.equal(build.finished, false);
    assert.equal(build.buildstatus, null);
    assert.equal(build.starttime, null);
    assert.equal(build.stoptime, null);
  });

  it("reads a status-6 constituent as finished with status 6", () => {
    const build = BuildSchema.parse(JSON.parse(fixture("constituent-status6.json")));
    assert.deepEqual([build.finished, build.buildstatus, build.job], [true, 6, "docs"]);
  });

  it("reads the constituents array", () => {
    const builds = ConstituentsSchema.parse(JSON.parse(fixture("gate-constituents.json")));
    assert.deepEqual(builds.map((b) => [b.job, b.buildstatus]), [["app-server", 0], ["docs", 6], ["worker", 0]]);
  });

  it("reads a cached build: timestamp == starttime == stoptime, with a build product", () => {
    const [app] = ConstituentsSchema.parse(JSON.parse(fixture("gate-constituents.json")));
    assert.ok(app);
    assert.deepEqual([app.job, app.timestamp, app.starttime, app.stoptime], ["app-server", 1767265502, 1767265502, 1767265502]);
  });

  it("reads an old instance's build: buildmetrics null, no drvpath", () => {
    const raw = JSON.parse(fixture("build-old-instance.json")) as Record<string, unknown>;
    assert.equal(raw["buildmetrics"], null);
    assert.ok(!("drvpath" in raw));
    const build = BuildSchema.parse(raw);
    assert.deepEqual([build.id, build.finished, build.buildstatus, build.jobsetevals], [95012, true, 0, [4411]]);
  });

  it("a constituent is in every evaluation its gate is in (Hydra adds a whole eval's builds together)", () => {
    const gateEvals = BuildSchema.parse(gate).jobsetevals;
    for (const build of ConstituentsSchema.parse(JSON.parse(fixture("gate-constituents.json")))) {
      for (const e of gateEvals) assert.ok(build.jobsetevals.includes(e), `${build.job} lacks eval ${e}`);
    }
    const docs = BuildSchema.parse(JSON.parse(fixture("constituent-status6.json")));
    for (const e of gateEvals) assert.ok(docs.jobsetevals.includes(e), `docs lacks eval ${e}`);
  });

  it("reads Hydra's JSON 404 body", () => {
    assert.deepEqual(HydraErrorBodySchema.parse(JSON.parse(fixture("error-404.json"))), {
      error: "There is no successful build to redirect to.",
    });
  });
});

describe("BuildSchema normalisation", () => {
  const cases: Array<[string, Record<string, unknown>, string[], Record<string, unknown>]> = [
    ["finished 1", { finished: 1 }, [], { finished: true }],
    ["finished 0", { finished: 0 }, [], { finished: false }],
    ["finished true (OpenAPI)", { finished: true }, [], { finished: true }],
    ["finished false (OpenAPI)", { finished: false }, [], { finished: false }],
    ["buildstatus null", { buildstatus: null }, [], { buildstatus: null }],
    ["buildstatus absent", {}, ["buildstatus"], { buildstatus: null }],
    ["nixname null", { nixname: null }, [], { nixname: null }],
    ["nixname absent, system absent", {}, ["nixname", "system"], { nixname: null, system: null }],
    ["times absent", {}, ["timestamp", "starttime", "stoptime"], { timestamp: null, starttime: null, stoptime: null }],
    ["output path null", { buildoutputs: { out: { path: null } } }, [], { buildoutputs: { out: { path: null } } }],
  ];
  for (const [name, fields, drop, expected] of cases) {
    it(name, () => {
      const build: Record<string, unknown> = BuildSchema.parse(withFields(fields, drop));
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(build[key], value, key);
    });
  }
});

describe("BuildSchema refusals and describeZodError", () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ["finished 2", withFields({ finished: 2 }), /^finished: /],
    ["finished as a string", withFields({ finished: "1" }), /^finished: /],
    ["id as a string", withFields({ id: "281734" }), /^id: .*number/],
    ["missing jobsetevals", withFields({}, ["jobsetevals"]), /^jobsetevals: /],
    ["output without path", withFields({ buildoutputs: { out: {} } }), /^buildoutputs\.out\.path: /],
    ["empty object", {}, /^id: .*; finished: /],
    ["not an object", "<html>", /^\(body\): /],
  ];
  for (const [name, input, message] of cases) {
    it(name, () => {
      const result = BuildSchema.safeParse(input);
      assert.equal(result.success, false);
      if (!result.success) assert.match(describeZodError(result.error), message);
    });
  }

  it("names the array index of a bad constituent", () => {
    const builds: unknown[] = JSON.parse(fixture("gate-constituents.json"));
    builds[1] = Object.assign({}, builds[1], { finished: "yes" });
    const result = ConstituentsSchema.safeParse(builds);
    assert.ok(!result.success, "parse should fail");
    assert.match(describeZodError(result.error), /^\[1\]\.finished: /);
  });

  it("keeps a long list of issues short", () => {
    const result = BuildSchema.safeParse({});
    assert.ok(!result.success, "parse should fail");
    const text = describeZodError(result.error);
    assert.equal(text.split("; ").length, 6, text);
    assert.match(text, /and \d+ more$/);
  });
});
