// `npm run demo`: a two-minute tour of hail for a newcomer who has no Hydra of their own.
//
// A stand-in Hydra (test/support/hydra-server.ts) on 127.0.0.1 serves fixtures/hydra/demo.json.
// When Nix is installed, the Nix lab (test/support/nix-lab.ts) builds two tiny versions of an
// app, signs them into a binary cache that the stand-in Hydra also serves, and deletes them
// from the local store, so hail really substitutes them. The real CLI (dist/hail.mjs) runs as
// a subprocess with inherited stdio: what you see between the headers is hail's own output.
// Without Nix the tour shows `hail plan` only, against made-up store paths.
//
// Everything lives in temporary directories and is removed at the end, also on failure or
// Ctrl-C. A hail exit code other than the one a step expects fails the demo (exit 1).
// `npm run demo -- --keep` leaves the world running after the tour (the stand-in Hydra, its
// cache, the profile and state dirs), prints the commands to try on it, as `npm run hydra`
// does, and removes it at Ctrl-C (exit 0).
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readlink, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { HAIL_BIN } from "../support/cli.js";
import { HydraTestServer } from "../support/hydra-server.js";
import { createNixLab, nixAvailable, type NixLab } from "../support/nix-lab.js";
import { tryTheseBlock, tryWorldOf } from "./try-these.js";
import { WorldControl } from "./world-control.js";

/** Section 3 of the spec, for the line printed after each hail run. */
const EXIT_MEANINGS: Record<number, string> = {
  0: "done", 1: "deployment failed", 2: "a deployment is pending", 64: "usage or configuration error",
  65: "invalid data from Hydra", 69: "Hydra unavailable", 75: "nothing deployable yet, or profile locked",
};
const PROFILE = "myapp";

interface Stage {
  hydra: HydraTestServer;
  /** the environment of every hail and nix-env run; with Nix, the lab's NIX_CONFIG points at the served cache */
  env: NodeJS.ProcessEnv;
  profilesDir: string;
  stateDir: string;
}

class DemoFailure extends Error {}

const keep = process.argv.slice(2).includes("--keep");
/** With --keep, after the tour: what stays running until a signal ends the wait. */
let kept: { lab: NixLab; hydra: HydraTestServer } | undefined;
/** Set while the kept world waits: a signal then ends the wait, and the demo ends as done (0). */
let endKeeping: (() => void) | undefined;

// `npm run demo | head` closes stdout early: keep going, so the cleanup still runs.
process.stdout.on("error", () => undefined);

const color = process.stdout.isTTY === true && !process.env["NO_COLOR"];
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[22m` : s);
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[22m` : s);

let stepNumber = 0;
function step(title: string): void {
  stopIfInterrupted();
  stepNumber += 1;
  console.log(`\n${bold(`━━ Step ${stepNumber} · ${title}`)}`);
}
function say(...lines: string[]): void {
  for (const line of lines) console.log(`   ${line}`);
}

// ---- cleanup: last in, first out, in the normal flow's `finally` ----
// A signal does not clean up by itself: it stops the hail or nix-env the demo is running and
// marks the demo interrupted; the tour stops at its next check, so no Nix command of the lab
// is still writing into the temp dir when it is removed.
const cleanups: (() => Promise<void>)[] = [];
/** stops the command running now, if any (only a process this demo started) */
let stopRunning: ((signal: NodeJS.Signals) => void) | undefined;
let interruptedBy: { signal: NodeJS.Signals; code: number } | undefined;

async function cleanUp(): Promise<void> {
  for (let undo = cleanups.pop(); undo; undo = cleanups.pop()) {
    try {
      await undo();
    } catch (err) {
      console.error(`demo: cleanup failed: ${String(err)}`);
    }
  }
}

function stopIfInterrupted(): void {
  if (interruptedBy) throw new DemoFailure(`interrupted by ${interruptedBy.signal}`);
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  // `on`, not `once`: execa's exit hook re-raises a signal nobody else listens to, which would
  // kill the demo before its cleanup. A second signal ends the demo at once.
  process.on(signal, () => {
    if (endKeeping) return endKeeping();
    if (interruptedBy) process.exit(code);
    interruptedBy = { signal, code };
    console.error(`\ndemo: ${signal}, stopping and cleaning up (send it again to quit at once)`);
    stopRunning?.(signal);
  });
}

// ---- running commands where the user can see them ----
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `$ cmd --flag value ...`, wrapped before a flag once a line gets long. */
function showCommand(argv: string[]): void {
  const units: string[] = [];
  for (const word of argv.map(quote)) {
    const last = units.length - 1;
    if (last > 0 && !word.startsWith("-") && units[last]?.startsWith("--") && !units[last]?.includes(" ")) units[last] += ` ${word}`;
    else units.push(word);
  }
  const lines = [`$ ${units[0] ?? ""}`];
  for (const unit of units.slice(1)) {
    if ((lines.at(-1) ?? "").length + unit.length + 1 > 96) lines.push(`    ${unit}`);
    else lines[lines.length - 1] += ` ${unit}`;
  }
  console.log(dim(lines.join(" \\\n")));
}

/** Runs a command with the user's terminal as its stdout and stderr; `shown` is how it is printed. */
async function run(stage: Stage, file: string, args: string[], shown: string[] = [file, ...args]): Promise<number> {
  showCommand(shown);
  const child = execa(file, args, {
    env: stage.env, extendEnv: false, stdio: ["ignore", "inherit", "inherit"], reject: false, timeout: 120_000,
  });
  stopRunning = (signal) => child.kill(signal); // execa sends SIGKILL 5 s later if need be
  const result = await child;
  stopRunning = undefined;
  if (result.timedOut) throw new DemoFailure(`${shown.join(" ")} did not finish within 2 minutes`);
  if (result.exitCode === undefined) throw new DemoFailure(`${shown.join(" ")} was stopped by ${result.signal ?? "a signal"}`);
  return result.exitCode;
}

async function hail(stage: Stage, args: string[], expected = 0): Promise<void> {
  const code = await run(stage, process.execPath, [HAIL_BIN, ...args], ["node", path.relative(process.cwd(), HAIL_BIN), ...args]);
  console.log(dim(`→ hail exited ${code} (${EXIT_MEANINGS[code] ?? "unexpected"})`));
  if (code !== expected) {
    throw new DemoFailure(`hail ${args[0] ?? ""} exited ${code}, the demo expected ${expected} (${EXIT_MEANINGS[expected] ?? "?"}); its output is above`);
  }
}

function targetArgs(stage: Stage): string[] {
  return [
    "--gate-job", `${stage.hydra.url}/job/myproject/main/release_gate`, "--constituent", "myapp",
    "--profile", PROFILE, "--profiles-dir", stage.profilesDir, "--state-dir", stage.stateDir, "--log-format", "pretty",
  ];
}

/** A well-formed store path for the tour without Nix: 32 characters of Nix's base32. */
function madeUpStorePath(name: string): string {
  const alphabet = "0123456789abcdfghijklmnpqrsvwxyz";
  const digest = createHash("sha256").update(`hail-demo-${name}`).digest();
  return `/nix/store/${Array.from(digest.subarray(0, 32), (byte) => alphabet[byte % 32]).join("")}-${name}`;
}

// ---- the tour ----
async function showProfile(stage: Stage): Promise<void> {
  const link = path.join(stage.profilesDir, PROFILE);
  const generation = await readlink(link);
  const storePath = await readlink(path.resolve(stage.profilesDir, generation));
  const version = (await readFile(path.join(storePath, "version"), "utf8")).trim();
  say(`${link}`, `  -> ${generation}`, `  -> ${storePath}   (its version file says ${version})`);
  const code = await run(stage, "nix-env", ["--profile", link, "--list-generations"]);
  if (code !== 0) throw new DemoFailure(`nix-env --list-generations exited ${code}`);
}

async function tourWithNix(): Promise<void> {
  step("Build two versions of a tiny app with Nix");
  const lab = await createNixLab();
  cleanups.push(() => lab.cleanup());
  stopIfInterrupted();
  const v1 = await lab.buildApp("myapp", "1");
  stopIfInterrupted();
  const v2 = await lab.buildApp("myapp", "2");
  say(`myapp 1: ${v1}`, `myapp 2: ${v2}`);
  stopIfInterrupted();
  await lab.publish(v1, v2);
  stopIfInterrupted();
  await lab.deleteLocal(v1, v2);
  say("Signed and copied both into a binary cache, then deleted them from the local store:",
    "hail has to fetch them from the cache, as it would on a real machine.");

  const hydra = await startHydra(lab.cacheDir, v1, v2);
  const stage: Stage = { hydra, env: lab.envFor(hydra.url), profilesDir: lab.profilesDir, stateDir: path.join(lab.root, "state") };
  say(`hail's Nix commands substitute from ${hydra.url} only: the demo gives hail a NIX_CONFIG saying so.`);

  await showPlan(stage);

  step("hail --oneshot: deploy myapp 1 (one pass, then exit)");
  hydra.resetRequests();
  await hail(stage, ["run", ...targetArgs(stage), "--oneshot"]);
  const fetched = hydra.requests.filter((r) => r.path.endsWith(".narinfo") || r.path.startsWith("/nar/")).map((r) => r.path);
  say(`Nix fetched the path from the cache (${fetched.length === 0 ? "no cache request seen!" : `GET ${fetched.join(", ")}`}),`,
    "hail made it a new generation of the profile and ran its bin/activate (the \"activated ...\" log line).");

  step("The result is an ordinary Nix profile");
  await showProfile(stage);

  step("Hydra finishes a newer gate build: gate 110 with myapp 111 (version 2)");
  hydra.updateBuild(111, { finished: true, buildstatus: 0 });
  hydra.updateBuild(110, { finished: true, buildstatus: 0 });
  say("The same plan as JSON, for scripts (exactly one object on stdout; logs go to stderr):");
  await hail(stage, ["plan", ...targetArgs(stage), "--json"]);

  step("hail --oneshot again: switch to myapp 2 (generation 2)");
  await hail(stage, ["run", ...targetArgs(stage), "--oneshot"]);
  await showProfile(stage);

  step("hail --oneshot once more: nothing changed, nothing to do");
  hydra.resetRequests();
  await hail(stage, ["run", ...targetArgs(stage), "--oneshot"]);
  const asked = hydra.requests.map((r) => r.path);
  say(`An idle pass is cheap: no nix command, no activation, and ${asked.length} request(s) to Hydra:`,
    ...asked.map((p) => `  GET ${p}`),
    "In production, drop --oneshot: hail polls every --poll-period (default 5m) and deploys what turns green.");
  kept = { lab, hydra };
}

/** --keep: the world stays as the tour left it (myapp 2 deployed from gate 110) until a signal. */
async function keepRunning({ lab, hydra }: { lab: NixLab; hydra: HydraTestServer }): Promise<void> {
  const control = new WorldControl(lab, hydra, { evalId: 12, gateId: 120, version: 3 }, 110);
  control.attach();
  step("--keep: the stand-in Hydra keeps running");
  const ended = new Promise<void>((resolve) => (endKeeping = resolve));
  console.log(`\n${tryTheseBlock(tryWorldOf(lab, hydra.url), { prompt: false })}`);
  await ended;
  console.error("\ndemo: stopping the kept world");
  await control.settle();
}

async function tourWithoutNix(): Promise<void> {
  say("Nix is not installed here (nix-build, nix-store, nix-env and nix must all be on PATH),",
    "so this tour shows `hail plan` only, against made-up store paths; deploying needs Nix.",
    "To see hail deploy for real, install Nix and run `npm run demo` again. On Debian:",
    "    apt-get update && apt-get install -y nix-bin");
  const scratch = await mkdtemp(path.join(os.tmpdir(), "hail-demo-"));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  const hydra = await startHydra(undefined, madeUpStorePath("myapp-1"), madeUpStorePath("myapp-2"));
  const stage: Stage = { hydra, env: process.env, profilesDir: path.join(scratch, "profiles"), stateDir: path.join(scratch, "state") };
  await showPlan(stage);
  say("With Nix installed, the tour goes on to deploy this with `hail --oneshot`.");
}

async function startHydra(cacheDir: string | undefined, app1: string, app2: string): Promise<HydraTestServer> {
  step("Start a stand-in Hydra on 127.0.0.1");
  const hydra = await HydraTestServer.start(cacheDir === undefined ? {} : { cacheDir });
  cleanups.push(() => hydra.close());
  hydra.loadScenario("demo.json", { app1, app2 });
  say(`Listening on ${hydra.url}${cacheDir === undefined ? "" : " (also serving the binary cache)"}. Project myproject, jobset main:`,
    "  eval 10: release_gate 100, green, constituents myapp 101 (version 1) and tests 102",
    "  eval 11: release_gate 110 with myapp 111 (version 2), not finished yet",
    "hail deploys constituent myapp of the newest finished, green release_gate.");
  return hydra;
}

async function showPlan(stage: Stage): Promise<void> {
  step("hail plan: what would hail deploy? (reads Hydra, changes nothing)");
  await hail(stage, ["plan", ...targetArgs(stage)]);
}

async function main(): Promise<void> {
  console.log(bold("hail demo: pull-based deployment from a Hydra release gate, end to end"));
  if (await nixAvailable()) await tourWithNix();
  else await tourWithoutNix();
  if (keep && kept) await keepRunning(kept);
  else if (keep) say("--keep: nothing to keep without Nix.");
}

const started = Date.now();
let failure: unknown;
try {
  await main();
} catch (err) {
  failure = err;
} finally {
  await cleanUp();
}
if (failure === undefined) {
  console.log(`\n${bold("Done")} in ${((Date.now() - started) / 1000).toFixed(1)} s; temporary files and the stand-in Hydra are gone.`);
  console.log("Next: README.md (the quickstart), docs/reference/cli.md (every flag); `node dist/hail.mjs run --help` lists every option.");
} else if (interruptedBy) {
  console.error(`demo: stopped by ${interruptedBy.signal}; temporary files and the stand-in Hydra are gone.`);
  process.exitCode = interruptedBy.code;
} else {
  console.error(`\ndemo failed: ${failure instanceof DemoFailure ? failure.message : failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`);
  process.exitCode = 1;
}
