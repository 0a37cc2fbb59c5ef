// metrics: --metrics-file: the exposition written atomically for node_exporter's textfile
// collector.
import { dirname } from "node:path";
import { describeError } from "../errors.js";
import type { Log } from "../log.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { ensureDirectory } from "../trusted-file.js";

/**
 * A directory hail makes for --metrics-file is 0755 whatever the umask, and the file 0644:
 * the textfile collector runs as another user and must read them. Nothing in it is secret.
 */
const METRICS_DIR_MODE = 0o755;

/** --metrics-file, written atomically: the textfile collector must never read half a file. */
export async function writeMetricsFile(file: string | null, render: () => string, log: Log): Promise<void> {
  if (file === null) return;
  try {
    const refusal = await ensureDirectory(dirname(file), METRICS_DIR_MODE, false);
    if (refusal !== null) {
      log.error(`cannot write the metrics file ${file}: its directory ${dirname(file)}: ${refusal.why}; ${refusal.fix}`);
      return;
    }
    await writeFileAtomic(file, render());
  } catch (err) {
    log.error(`cannot write the metrics file ${file}: ${describeError(err)}`);
  }
}
