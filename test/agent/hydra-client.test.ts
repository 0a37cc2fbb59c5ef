// The jobset-rename warning: once per move per daemon, again when the job moves elsewhere.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { warnOncePerMove } from "../../src/agent/hydra-client.js";
import type { Log } from "../../src/log.js";

function recordingLog(): { log: Log; lines: string[] } {
  const lines: string[] = [];
  const log: Log = {
    debug: (msg) => void lines.push(`debug ${msg}`),
    info: (msg) => void lines.push(`info ${msg}`),
    warn: (msg) => void lines.push(`warn ${msg}`),
    error: (msg) => void lines.push(`error ${msg}`),
    child: () => log,
  };
  return { log, lines };
}

const OLD = "https://hydra.example/job/p/old-main/release_gate/latest-finished";
const MAIN = "https://hydra.example/job/p/main/release_gate";
const NEXT = "https://hydra.example/job/p/next/release_gate";

describe("warnOncePerMove", () => {
  it("warns at the first poll that follows a move, at debug level after it, and again when the job moves elsewhere", () => {
    const { log, lines } = recordingLog();
    const moved = warnOncePerMove(log);
    for (const to of [MAIN, MAIN, MAIN, NEXT, NEXT]) moved({ from: OLD, to });
    assert.deepEqual(
      lines.map((l) => l.split(" ")[0]),
      ["warn", "debug", "debug", "warn", "debug"],
    );
    assert.match(lines[0] ?? "", new RegExp(`^warn Hydra moved this job \\(a renamed jobset\\): ${OLD} now redirects to ${MAIN}; following it, update the job URL`));
    assert.match(lines[3] ?? "", new RegExp(`now redirects to ${NEXT};`));
  });

  it("each moved job is warned about once", () => {
    const { log, lines } = recordingLog();
    const moved = warnOncePerMove(log);
    const other = "https://hydra.example/job/p/old-main/other_gate/latest-finished";
    moved({ from: OLD, to: MAIN });
    moved({ from: other, to: "https://hydra.example/job/p/main/other_gate" });
    moved({ from: OLD, to: MAIN });
    assert.deepEqual(lines.map((l) => l.split(" ")[0]), ["warn", "warn", "debug"]);
  });
});
