import type { Log } from "../../src/log.js";

/** A log that drops everything, for tests that look at one line or none. */
export const silentLog: Log = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLog,
};
