// Side-by-side idle-daemon runs with several node flag sets (a tool for choosing daemonNodeFlags):
//   node --import tsx test/bench/idle-flags.ts POLLS ROUNDS 'FLAGS A' 'FLAGS B' …
// Each round runs every flag set once, in turn, against the same world.
import os from "node:os";
import { createWorld } from "../e2e/world.js";
import { deployOnce, pollIdle } from "./idle-daemon.js";

const [pollsArg, roundsArg, ...sets] = process.argv.slice(2);
const polls = Number(pollsArg);
const rounds = Number(roundsArg);
const world = await createWorld();
world.hydra.closeConnections = true;
try {
  await deployOnce(world);
  const results = new Map<string, string[]>(sets.map((s) => [s, []]));
  for (let r = 0; r < rounds; r++) {
    for (const set of sets) {
      const flags = set.split(" ").filter((f) => f !== "");
      const s = await pollIdle(world, polls, flags);
      const mib = (kib: number) => (kib / 1024).toFixed(1);
      const code = s.afterGc.spaces.find((sp) => sp.name === "code")?.sizeKiB ?? 0;
      const line = `${(s.cpuMs / s.polls).toFixed(2)} ms ${mib(s.rssEndKiB)} MiB (peak ${mib(s.peakKiB)}; anon ${mib(s.anonEndKiB)}, ` +
        `heap ${mib(s.afterGc.heapTotalKiB)} of which code ${mib(code)}) req/poll ${(s.requests / s.polls).toFixed(3)} load ${os.loadavg()[0]?.toFixed(1)}; ` +
        `RSS by tenths ${s.rssTrend.map((k) => (k / 1024).toFixed(0)).join(" ")}`;
      results.get(set)?.push(line);
      console.log(`[${r}] ${set || "(defaults)"}: ${line}`);
    }
  }
  for (const [set, lines] of results) console.log(`${set || "(defaults)"}\n  ${lines.join("\n  ")}`);
} finally {
  await world.close();
}
