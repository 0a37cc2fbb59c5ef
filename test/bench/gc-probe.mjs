// Preloaded into the idle daemon (NODE_OPTIONS=--import this): on SIGUSR2 it runs a full
// garbage collection and appends the memory figures before and after to $HAIL_BENCH_GC_OUT,
// so the benchmark can tell memory still in use (a leak) from garbage V8 has not collected yet,
// and the size of each V8 heap space.
import { appendFileSync } from "node:fs";
import v8 from "node:v8";
import vm from "node:vm";

const out = process.env["HAIL_BENCH_GC_OUT"];
if (out) {
  // --expose-gc is not allowed in NODE_OPTIONS on Node 20; this is the documented way around it.
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  process.on("SIGUSR2", () => {
    const before = process.memoryUsage();
    gc();
    const after = process.memoryUsage();
    // where the heap goes: committed and used bytes per V8 space (new, old, code, map, large objects)
    const spaces = v8.getHeapSpaceStatistics().map((s) => ({ name: s.space_name, size: s.space_size, used: s.space_used_size }));
    appendFileSync(out, `${JSON.stringify({ before, after, spaces })}\n`);
  });
}
