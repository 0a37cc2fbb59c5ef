// agent: Where a target's signed release files come from: the HTTP client for the manifest's host.
import type { ReleaseFiles } from "../release/fetch-release.js";
import type { Log } from "../log.js";
import type { AgentConfig } from "./config.js";
import { createHydraClient } from "./hydra-client.js";

/**
 * Where a target's signed release is fetched: through its Hydra client when the manifest lies
 * under the Hydra URL (same credentials, same login session), else through a client of its own
 * on the manifest's origin, with the same rules and the netrc credentials of that host.
 */
export async function createReleaseFiles(
  config: Pick<AgentConfig, "netrc" | "timeoutMs" | "target" | "hydraLogin">,
  hydraClient: ReleaseFiles,
  log: Log,
): Promise<ReleaseFiles | null> {
  const release = config.target.release;
  if (release === undefined) return null;
  if (release.manifestUrl.startsWith(`${config.target.source.job.baseUrl}/`)) return hydraClient;
  return createHydraClient({ ...config, hydraLogin: null }, log, undefined, new URL(release.manifestUrl).origin);
}
