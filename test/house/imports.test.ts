// The house's layering, checked on the source: the rooms (folders of src/) stand in one order
// from top to bottom, a file imports only from its own room or a room below it, no file
// reaches itself through its imports, and every source file opens with a header comment.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const SRC = new URL("../../src/", import.meta.url).pathname;

/**
 * The floors, top to bottom (docs/development.md). A room may import from itself and from any
 * room after it in this list, never from one before it. "" is the root basics: src/*.ts.
 */
const FLOORS = [
  "build", // generating the bundle, the man page and the reference pages from the code
  "cli", // parsing and printing: commands, options, the config file, plan and status
  "daemon", // the poll loop, its signals and poll-now requests
  "agent", // one target's life and the fleet of targets in one process
  "metrics", // counting passes, the exposition, the metrics file and server
  "deploy", // changing the machine: the pass, realise–switch–activate–roll back, hooks
  "resolve", // Hydra → one checked store path: the target, the gate's build, decide
  "release", // signed releases: manifest, signature, allowed signers, Hydra's confirmation
  "nixos", // --nixos: system checks, switch-to-configuration, reboots
  "state", // the state file, its store and transitions, the locks
  "profile", // a profile: its path and key, its links and generations, trust
  "hydra", // the HTTP client to Hydra and the schemas of its JSON
  "nix", // argv builders for Nix commands and the process runner
  "", // root basics: errors, log, durations, sizes, trusted files
] as const;

function sourceFiles(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full, pattern);
    return pattern.test(e.name) ? [full] : [];
  });
}

/** file (relative to src/) → the src files it imports: static, type-only, re-exports and import(). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC, /\.ts$/)) {
    const text = readFileSync(file, "utf8");
    const specifiers = [
      ...[...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/gms)].map((m) => m[1]),
      ...[...text.matchAll(/\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g)].map((m) => m[1]),
    ];
    const targets = specifiers.map((s) => path.relative(SRC, path.resolve(path.dirname(file), (s ?? "").replace(/\.js$/, ".ts"))));
    graph.set(path.relative(SRC, file), targets);
  }
  return graph;
}

/** The room of a file relative to src/: its first folder, or "" for the root basics. */
function roomOf(file: string): string {
  const slash = file.indexOf("/");
  return slash === -1 ? "" : file.slice(0, slash);
}

const floorOf = (room: string): number => (FLOORS as readonly string[]).indexOf(room);
const shown = (room: string): string => (room === "" ? "the root" : `${room}/`);

/** Every import that runs up a floor, as "file → target (room above room)"; [] when the house stands. */
function upwardImports(graph: Map<string, string[]>): string[] {
  return [...graph].flatMap(([file, targets]) =>
    targets
      .filter((target) => floorOf(roomOf(target)) < floorOf(roomOf(file)))
      .map((target) => `${file} → ${target} (${shown(roomOf(target))} is above ${shown(roomOf(file))})`),
  );
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

/** The first line that is not blank (after a #! line) opens a comment. */
function opensWithComment(text: string): boolean {
  const first = text.split("\n").find((line) => line.trim() !== "" && !line.startsWith("#!")) ?? "";
  return /^\s*(\/\/|\/\*)/.test(first);
}

describe("the house: imports run downwards only", () => {
  const graph = importGraph();

  it("reads the whole source tree", () => {
    assert.ok(graph.size > 50, `only ${graph.size} files under src/`);
    assert.ok(graph.get("cli/plan.ts")?.includes("cli/plan-report.ts"), "the import reader sees plan.ts's imports");
    assert.ok(graph.get("cli/main.ts")?.includes("cli/run.ts"), "the import reader sees main.ts's import() of a command");
  });

  it("has no import circle", () => {
    assert.deepEqual(cycles(graph).map((c) => c.join(" → ")), []);
  });

  it("knows every room under src/, and every room it knows exists", () => {
    const rooms = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    const unknown = rooms.filter((room) => floorOf(room) === -1);
    assert.deepEqual(unknown, [], `src/ folders missing from FLOORS in ${import.meta.url}: place each on its floor`);
    assert.deepEqual(FLOORS.filter((room) => room !== "" && !rooms.includes(room)), [], "FLOORS names a room src/ does not have");
  });

  it("imports nothing from a room above the importer's", () => {
    assert.deepEqual(upwardImports(graph), []);
  });

  it("sees an upward import when there is one", () => {
    const house = new Map([
      ["state/schema.ts", ["errors.ts"]],
      ["nix/runner.ts", ["state/schema.ts", "nix/commands.ts"]],
    ]);
    assert.deepEqual(upwardImports(house), ["nix/runner.ts → state/schema.ts (state/ is above nix/)"]);
  });

  it("opens every source file with a header comment saying what it is for", () => {
    const bare = sourceFiles(SRC, /\.(ts|mjs)$/)
      .filter((file) => !opensWithComment(readFileSync(file, "utf8")))
      .map((file) => path.relative(SRC, file));
    assert.deepEqual(bare, []);
  });
});
