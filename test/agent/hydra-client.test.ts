// The jobset-rename warning: once per move per daemon, again when the job moves elsewhere.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { warnOncePerMove } from "../../src/agent/hydra-client.js";
import { memoryLog } from "../deploy/fake-world.js";

const OLD = "https://hydra.example/job/p/old-main/release_gate/latest-finished";
const MAIN = "https://hydra.example/job/p/main/release_gate";
const NEXT = "https://hydra.example/job/p/next/release_gate";

describe("warnOncePerMove", () => {
  it("warns at the first poll that follows a move, at debug level after it, and again when the job moves elsewhere", () => {
    const log = memoryLog();
    const moved = warnOncePerMove(log);
    for (const to of [MAIN, MAIN, MAIN, NEXT, NEXT]) moved({ from: OLD, to });
    assert.deepEqual(
      log.lines.map((l) => l.level),
      ["warn", "debug", "debug", "warn", "debug"],
    );
    assert.match(log.lines[0]?.msg ?? "", new RegExp(`^Hydra moved this job \\(a renamed jobset\\): ${OLD} now redirects to ${MAIN}; following it, update the job URL`));
    assert.match(log.lines[3]?.msg ?? "", new RegExp(`now redirects to ${NEXT};`));
  });

  it("each moved job is warned about once", () => {
    const log = memoryLog();
    const moved = warnOncePerMove(log);
    const other = "https://hydra.example/job/p/old-main/other_gate/latest-finished";
    moved({ from: OLD, to: MAIN });
    moved({ from: other, to: "https://hydra.example/job/p/main/other_gate" });
    moved({ from: OLD, to: MAIN });
    assert.deepEqual(log.lines.map((l) => l.level), ["warn", "warn", "debug"]);
  });
});
