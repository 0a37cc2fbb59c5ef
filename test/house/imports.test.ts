// The house's layering, checked on the source: no file reaches itself through its imports, and
// src/nixos/ (a room below src/deploy/) imports nothing from the rooms above it.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const SRC = new URL("../../src/", import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith(".ts") ? [full] : [];
  });
}

/** file (relative to src/) → the src files it imports, type-only imports included. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/gms)].map((m) =>
      path.relative(SRC, path.resolve(path.dirname(file), (m[1] ?? "").replace(/\.js$/, ".ts"))),
    );
    graph.set(path.relative(SRC, file), targets);
  }
  return graph;
}

/** Every cycle, each once, as a list of files starting at its first file in sorted order. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found = new Map<string, string[]>();
  const visit = (file: string, trail: string[]) => {
    const at = trail.indexOf(file);
    if (at !== -1) {
      const loop = trail.slice(at);
      const start = loop.indexOf([...loop].sort()[0] ?? "");
      const canonical = [...loop.slice(start), ...loop.slice(0, start)];
      found.set(canonical.join(" → "), canonical);
      return;
    }
    if (trail.length > 40) return;
    for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
  };
  for (const file of graph.keys()) visit(file, []);
  return [...found.values()];
}

describe("the house: imports run downwards only", () => {
  const graph = importGraph();

  it("reads the whole source tree", () => {
    assert.ok(graph.size > 50, `only ${graph.size} files under src/`);
    assert.ok(graph.get("cli/plan.ts")?.includes("cli/plan-report.ts"), "the import reader sees plan.ts's imports");
  });

  it("has no import circle", () => {
    assert.deepEqual(cycles(graph).map((c) => c.join(" → ")), []);
  });

  it("src/nixos/ imports nothing from deploy/, agent/, daemon/ or cli/ (what it needs is passed in or lives below)", () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      file.startsWith("nixos/") ? targets.filter((t) => /^(deploy|agent|daemon|cli)\//.test(t)).map((t) => `${file} → ${t}`) : [],
    );
    assert.deepEqual(upward, []);
  });
});
