// agent: AgentConfig, everything one target runs with once flags or a config file are parsed and
// checked.
import type { PassOptions } from "../deploy/pass.js";
import type { Target } from "../resolve/target.js";
import type { LogFormat, LogLevel } from "../log.js";

/**
 * Everything one target runs with, parsed and checked (from flags, or a config file's target).
 * The pass's options are inherited, not repeated: the agent hands this object to every pass as
 * it is, so an option added to PassOptions (or DeployOptions) is added once and reaches the pass.
 */
export interface AgentConfig extends PassOptions {
  target: Target;
  stateDir: string;
  pollPeriodMs: number;
  /** POST /poll and SIGUSR1 start at most one extra pass per this interval */
  pollMinIntervalMs: number;
  /** a daemon whose profiles exist spreads its first poll over the period (--no-start-spread: at once) */
  startSpread: boolean;
  oneshot: boolean;
  timeoutMs: number;
  netrc: { path: string; explicit: boolean } | null;
  /** A private Hydra's login; the password stays in its file until the client is made (hydra-client.ts). */
  hydraLogin: { user: string; passwordFile: string } | null;
  logFormat: LogFormat;
  logLevel: LogLevel;
  metricsFile: string | null;
  metricsListen: { host: string; port: number } | null;
}
