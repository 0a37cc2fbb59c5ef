// `npm run hydra [-- --port N]`: the stand-in Hydra (test/support/hydra-server.ts) with a real
// signed binary cache, left running so a newcomer can try hail's commands by hand. It builds
// myapp version 1 with Nix, makes it the constituent of a green release_gate, prints the
// commands to try (test/demo/try-these.ts) and then changes the world on request:
// POST /_control/{publish,publish-broken,fail-gate}, or the words publish, broken, fail typed
// here. Ctrl-C (SIGINT) or SIGTERM stops the server, removes the temp dir and exits 0.
// Not shipped: the product bundle is src/ only.
import { createInterface } from "node:readline";
import { HydraTestServer } from "../support/hydra-server.js";
import { createNixLab, nixAvailable } from "../support/nix-lab.js";
import { tryTheseBlock, tryWorldOf } from "./try-these.js";
import { ACTIONS, type Action, WorldControl } from "./world-control.js";

const DEFAULT_PORT = 3001;

class Usage extends Error {}

function portArgument(argv: string[]): number | undefined {
  if (argv.length === 0) return undefined;
  const [flag, value] = argv;
  if (flag !== "--port" || argv.length !== 2 || !/^\d+$/.test(value ?? "") || Number(value) > 65535) {
    throw new Usage(`usage: npm run hydra [-- --port N]   (N from 0 to 65535; 0 takes a free port; got: ${argv.join(" ")})`);
  }
  return Number(value);
}

/** The default port when it is free, else any free port; a port given explicitly or nothing. */
async function startServer(port: number | undefined, cacheDir: string): Promise<HydraTestServer> {
  try {
    return await HydraTestServer.start({ cacheDir, port: port ?? DEFAULT_PORT });
  } catch (err) {
    if (port !== undefined || (err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    return HydraTestServer.start({ cacheDir, port: 0 });
  }
}

/** The words typed on a terminal: publish, broken, fail (and help). */
function listenForWords(control: WorldControl): void {
  const byWord = new Map<string, Action>(Object.entries(ACTIONS).map(([action, a]) => [a.word, action as Action]));
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const word = line.trim();
    if (word === "") return;
    const action = byWord.get(word);
    if (action === undefined) {
      console.log(`type one of: ${[...byWord.keys()].join(", ")} (or Ctrl-C to stop)`);
      return;
    }
    console.log(`${word}: building...`);
    control.run(action).then(
      (said) => console.log(said),
      (err: unknown) => console.log(`${word} failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  });
}

async function main(): Promise<void> {
  const port = portArgument(process.argv.slice(2));
  if (!(await nixAvailable())) {
    throw new Usage("the stand-in Hydra needs Nix (nix-build, nix-store, nix-env and nix on PATH) to build and serve real store paths");
  }
  const lab = await createNixLab();
  let hydra: HydraTestServer | undefined;
  let control: WorldControl | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await control?.settle();
    await hydra?.close();
    await lab.cleanup();
    console.log(`stand-in Hydra stopped; ${lab.root} is gone.`);
    process.exit(code);
  };
  // `on`: execa re-raises a signal nobody listens to, which would skip the cleanup.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stop(0));
  try {
    hydra = await startServer(port, lab.cacheDir);
    control = new WorldControl(lab, hydra, { evalId: 10, gateId: 100, version: 1 });
    console.log(`Stand-in Hydra on ${hydra.url} (project myproject, jobset main, and a binary cache); temp dir ${lab.root}`);
    console.log("Building myapp version 1 with Nix and publishing it...");
    console.log(await control.run("publish"));
    control.attach();
  } catch (err) {
    if (stopping) return; // a signal: stop() cleans up
    await hydra?.close();
    await lab.cleanup();
    throw err;
  }
  console.log(`\n${tryTheseBlock(tryWorldOf(lab, hydra.url), { prompt: process.stdin.isTTY === true })}`);
  if (process.stdin.isTTY === true) listenForWords(control);
}

try {
  await main();
} catch (err) {
  console.error(`hydra: ${err instanceof Usage ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(err instanceof Usage ? 64 : 1);
}
