import type { Log } from "../../src/log.js";

/** A log that drops everything, for tests that watch something else. */
export const silentLog: Log = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLog,
};
