import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlanReport, PlanResult } from "../../src/cli/plan-report.js";
import { buildReport } from "../../src/cli/plan.js";
import { renderPlanMarkdown } from "../../src/cli/plan-markdown.js";
import type { Target } from "../../src/resolve/target.js";
import { HydraUnavailable } from "../../src/errors.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import { profileRefOf } from "../../src/profile/path.js";
import { HASH, resolution, storePath } from "../resolve/builds.js";

const OFFERED = storePath(HASH.a, "app-server-1.0");
const CURRENT = storePath(HASH.b, "app-server-0.9");

function target(profile: string): Target {
  return {
    source: { kind: "gate", job: parseJobUrl("https://hydra.example/job/acme/production/release_gate"), constituent: "app-server" },
    profile: profileRefOf(profile, "/nix/var/nix/profiles"),
    output: "out",
  };
}

const report = (r: PlanReport): PlanResult => ({ kind: "report", report: r });

describe("renderPlanMarkdown", () => {
  const deploy = buildReport(target("web"), resolution({ storePath: OFFERED }), CURRENT, { kind: "deploy" });
  deploy.changes = {
    sizes: { known: true, paths: 3, closureSize: 9_000_000, missingPaths: 2, downloadSize: 3 * 1024 * 1024, unpackedSize: 8_000_000 },
    closureDiff: { unavailable: "not fetched" },
  };
  const none = buildReport(target("api"), resolution({ storePath: OFFERED }), OFFERED, { kind: "up-to-date" });
  const held = buildReport(target("db"), resolution({ storePath: OFFERED }), CURRENT, { kind: "held", reason: "held: migration | do not touch" });

  it("one header, one row per target: target, current, offered, action, download", () => {
    const out = renderPlanMarkdown([report(deploy), report(none), report(held)]);
    assert.equal(
      out,
      [
        "### hail plan: 1 deploy, 1 none, 1 held",
        "",
        "| target | current | offered | action | download |",
        "|---|---|---|---|---|",
        "| web | `01234567…-app-server-0.9` | `l9r346p3…-app-server-1.0` (build 281735, gate 281734) | **deploy** | 3.0 MiB (2 of 3 paths) |",
        "| api | `l9r346p3…-app-server-1.0` | `l9r346p3…-app-server-1.0` (build 281735, gate 281734) | **none** |  |",
        "| db | `01234567…-app-server-0.9` | `l9r346p3…-app-server-1.0` (build 281735, gate 281734) | **held**: held: migration \\| do not touch |  |",
        "",
      ].join("\n"),
    );
  });

  it("an action it has never heard of is shown and counted like any other", () => {
    const stay = { ...deploy, action: "stay", reason: "older than deployed", changes: null } as unknown as PlanReport;
    const out = renderPlanMarkdown([report(stay), report(deploy)]);
    assert.match(out, /^### hail plan: 1 stay, 1 deploy$/m);
    assert.match(out, /\| \*\*stay\*\*: older than deployed \|  \|$/m);
  });

  it("a target that could not be planned: an error row with its exit code; unknown sizes say so", () => {
    const unknown = { ...deploy, changes: { sizes: { known: false as const, reason: "no cache" }, closureDiff: { unavailable: "x" } } };
    const out = renderPlanMarkdown([report(unknown), { kind: "error", profile: "ghost", error: new HydraUnavailable("https://hydra.example", "down\nretry") }]);
    assert.match(out, /^### hail plan: 1 deploy, 1 error$/m);
    assert.match(out, /\| \*\*deploy\*\* \| unknown \|$/m);
    assert.match(out, /^\| ghost \|  \|  \| \*\*error\*\* \(exit 69\): Hydra unavailable at https:\/\/hydra.example: down retry \|  \|$/m);
  });
});
