import { UsageError } from "../errors.js";
import { HydraClient } from "../hydra/client.js";
import { findCredentials, loadNetrc } from "../hydra/netrc.js";
import type { Log } from "../log.js";
import type { AgentConfig } from "./options.js";

/** The Hydra client for a target, with netrc credentials for its host when there are any. */
export async function createHydraClient(
  config: Pick<AgentConfig, "netrc" | "timeoutMs" | "target">,
  log: Log,
  onRequest?: (info: { method: string; url: string }) => void,
): Promise<HydraClient> {
  const { baseUrl } = config.target.source.job;
  const credentials = await credentialsFor(config.netrc, new URL(baseUrl).hostname, log);
  return new HydraClient({
    baseUrl,
    timeoutMs: config.timeoutMs,
    ...(credentials ? { credentials } : {}),
    ...(onRequest ? { onRequest } : {}),
  });
}

async function credentialsFor(netrc: AgentConfig["netrc"], host: string, log: Log) {
  if (!netrc) return undefined;
  try {
    return findCredentials(await loadNetrc(netrc.path), host);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (netrc.explicit) {
      throw new UsageError(`--netrc-file ${netrc.path}: cannot read it (${why}); fix the path or its permissions`);
    }
    log.warn(`ignoring ${netrc.path}: cannot read it (${why})`);
    return undefined;
  }
}
