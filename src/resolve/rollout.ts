/** --rollout-window and --rollout-key: a staged rollout without a coordinator (docs/fleet.md, "Staged rollout"). */
export interface RolloutPolicy {
  windowMs: number;
  key: string;
}

/**
 * A stable fraction in [0, 1) from the host's key and the gate build id: every host computes
 * its own place in the rollout, and all of them agree without talking to each other. A new
 * gate build reshuffles the order, so the same hosts are not always first.
 */
export function rolloutFraction(key: string, gateBuildId: number): number {
  // node:crypto loads here, not at start: most runs (every `hail plan`) never hash.
  const digest = process.getBuiltinModule("node:crypto").createHash("sha256").update(`${key}\u0000${gateBuildId}`).digest();
  // 48 bits fit a double exactly; dividing by 2^48 stays below 1.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** When this host may deploy the gate build: stoptime + window × f, as epoch milliseconds. */
export function rolloutNotBefore(policy: RolloutPolicy, gateBuildId: number, stoptime: number | null): number {
  // A build without a stoptime (never for a finished build) is not delayed.
  if (policy.windowMs <= 0 || stoptime === null) return 0;
  return stoptime * 1000 + Math.floor(policy.windowMs * rolloutFraction(policy.key, gateBuildId));
}
