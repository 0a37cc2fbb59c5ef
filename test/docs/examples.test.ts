// Every `hail …` example in README.md and docs/**.md (docs/reference/ is generated) runs here,
// so the docs cannot drift from the product. The convention a page follows:
// - a fenced ```sh block; each line starting with `hail ` (after an optional `$ ` prompt,
//   continued by a trailing `\`) is one command, run by the BUILT CLI against the Hydra test
//   server with a green gate (build 100: myapp version 1) and real Nix. The example's origin
//   https://hydra.example.org becomes the server's, every absolute path (but a store path) moves
//   under a temp dir, and each page gets its own --profiles-dir and --state-dir;
// - the commands of a page run in order on the same profiles, so a page reads as a session;
// - each command is expected to exit 0 — also `plan --detailed-exitcode` (write the example
//   where nothing is pending, or declare the 2) — unless the block has `<!-- exit: N -->` on
//   the line before its fence;
// - a `run` without --oneshot is a daemon: it runs (with a --metrics-file in the sandbox, whose
//   first write marks the end of a pass) until its first pass has ended, must log no error, and
//   must exit 0 on SIGTERM;
// - `<!-- file: PATH -->` before any block (a config file in ```json) writes it at PATH in the
//   page's sandbox, before the page's commands run;
// - `<!-- not-run: REASON -->` skips a block that cannot run here (a reason is required); its
//   commands still get the static check that every flag is one hail has.
import assert from "node:assert/strict";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { worldAtGreenGate, type World } from "../e2e/world.js";
import { blocksOf, docPages, readPage, type DocBlock, type DocCommand } from "./doc-examples.js";
import { isDaemon, sandboxArgs, sandboxFile, unknownFlags, type Sandbox } from "./doc-sandbox.js";

const PAGES = docPages().map((page) => ({ page, blocks: blocksOf(page, readPage(page)) }));
const SH = PAGES.flatMap((p) => p.blocks.filter((b) => b.lang === "sh"));
const where = (b: DocBlock, c?: DocCommand) => `${b.page}:${c?.line ?? b.line}`;

describe("the docs' shell examples, read", () => {
  it("finds the hail examples (the reader has not gone blind)", () => {
    const runnable = SH.filter((b) => b.notRun === undefined).flatMap((b) => b.commands);
    assert.ok(runnable.length >= 10, `only ${runnable.length} runnable hail commands found in ${PAGES.length} pages`);
  });

  it("every not-run marker says why", () => {
    const bare = PAGES.flatMap((p) => p.blocks).filter((b) => b.notRun !== undefined && b.notRun.length < 10);
    assert.deepEqual(bare.map((b) => where(b)), [], "write <!-- not-run: REASON --> with the reason the block cannot run here");
  });

  it("every exit marker is an exit code", () => {
    const bad = PAGES.flatMap((p) => p.blocks).filter((b) => b.exit !== undefined && !(Number.isInteger(b.exit) && b.exit >= 0 && b.exit < 256));
    assert.deepEqual(bad.map((b) => where(b)), []);
  });

  it("every hail command, run or not, uses only flags hail has", () => {
    const wrong = SH.flatMap((b) => b.commands.flatMap((c) => unknownFlags(c.args).map((f) => `${where(b, c)} ${f}`)));
    assert.deepEqual(wrong, [], "a flag that hail does not have (see src/cli/option-table.ts)");
  });

  it("every command of a block that runs is a plain command line", () => {
    const unreadable = SH.filter((b) => b.notRun === undefined).flatMap((b) => b.commands.filter((c) => c.unreadable).map((c) => `${where(b, c)}: ${c.unreadable}`));
    assert.deepEqual(unreadable, [], "make it a plain command, or mark the block <!-- not-run: REASON -->");
  });
});

describe("the docs' hail examples run against the Hydra test server and real Nix", () => {
  let world: World;
  before(async () => {
    ({ world } = await worldAtGreenGate("1"));
  });
  after(() => world.close());

  for (const { page, blocks } of PAGES) {
    const runs = blocks.filter((b) => b.lang === "sh" && b.notRun === undefined && b.commands.length > 0);
    if (runs.length === 0) continue;
    it(page, async () => {
      const box = await sandboxFor(world, page);
      for (const b of blocks.filter((x) => x.file !== undefined)) await writeSandboxFile(box, b);
      for (const b of runs) {
        for (const c of b.commands) await runExample(world, box, b, c);
      }
    });
  }
});

async function sandboxFor(world: World, page: string): Promise<Sandbox> {
  const root = path.join(world.lab.root, "docs", page.replace(/[/.]/g, "_"));
  const box = { hydraUrl: world.hydra.url, root, profilesDir: path.join(root, "profiles"), stateDir: path.join(root, "state") };
  await mkdir(root, { recursive: true });
  return box;
}

async function writeSandboxFile(box: Sandbox, b: DocBlock): Promise<void> {
  const file = path.join(box.root, b.file ?? "");
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, sandboxFile(b.body, box), { mode: 0o600 });
}

async function runExample(world: World, box: Sandbox, b: DocBlock, c: DocCommand): Promise<void> {
  const argv = sandboxArgs(c.args, box);
  const expected = b.exit ?? 0;
  const shown = `${where(b, c)}: hail ${c.args.join(" ")}`;
  if (!isDaemon(c.args)) {
    const r = await world.hail(argv);
    assert.equal(r.code, expected, `${shown}\nexited ${r.code}, the docs say ${expected}; stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    return;
  }
  // The metrics file is written after every pass, idle or not: the sign that the first one ended.
  const given = argv.indexOf("--metrics-file");
  const metricsFile = given === -1 ? path.join(box.root, `daemon-${c.line}.prom`) : (argv[given + 1] ?? "");
  await rm(metricsFile, { force: true }); // an earlier example's file is not this pass's
  const daemon = world.startDaemon(given === -1 ? [...argv, "--metrics-file", metricsFile] : argv);
  await daemon.waitFor(async () => (await readFile(metricsFile, "utf8").catch(() => "")).length > 0, `${shown}: its first pass`);
  const errors = daemon.logLines().filter((l) => l.errorKind !== undefined);
  assert.deepEqual(errors, [], `${shown}: the first pass failed; stderr:\n${daemon.stderr}`);
  assert.equal(await daemon.stop("SIGTERM"), expected, `${shown}: exit on SIGTERM; stderr:\n${daemon.stderr}`);
}
