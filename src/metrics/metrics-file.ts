import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { describeError } from "../errors.js";
import type { Log } from "../log.js";
import { writeFileAtomic } from "../state/atomic-write.js";

/** --metrics-file, written atomically: the textfile collector must never read half a file. */
export async function writeMetricsFile(file: string | null, render: () => string, log: Log): Promise<void> {
  if (file === null) return;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, render());
  } catch (err) {
    log.error(`cannot write the metrics file ${file}: ${describeError(err)}`);
  }
}
