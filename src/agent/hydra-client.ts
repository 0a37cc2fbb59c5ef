// agent: The Hydra client a target talks to: netrc or login session, user agent, a warning when a
// job moved.
import { UsageError } from "../errors.js";
import { exposedSecretWarning, readFlagFile } from "../flag-file.js";
import { HydraClient } from "../hydra/client.js";
import { findCredentials, parseNetrc } from "../hydra/netrc.js";
import type { JobUrl } from "../hydra/job-url.js";
import type { HydraLogin } from "../hydra/session.js";
import type { Log } from "../log.js";
import type { AgentConfig } from "./config.js";

/**
 * The Hydra client for a target: netrc credentials for its host when there are any, and the
 * login of a private Hydra (its password read from its file now, at start).
 */
export async function createHydraClient(
  // only the gate's Hydra is needed (hail sign has no profile)
  config: Pick<AgentConfig, "netrc" | "timeoutMs" | "hydraLogin"> & { target: { source: { job: Pick<JobUrl, "baseUrl"> } } },
  log: Log,
  onRequest?: (info: { method: string; url: string }) => void,
  /** another origin than the target's Hydra (a release manifest's web server) */
  baseUrl: string = config.target.source.job.baseUrl,
): Promise<HydraClient> {
  const credentials = await credentialsFor(config.netrc, new URL(baseUrl).hostname, log);
  const login = config.hydraLogin === null ? undefined : await loginFor(config.hydraLogin, log);
  return new HydraClient({
    baseUrl,
    timeoutMs: config.timeoutMs,
    ...(credentials ? { credentials } : {}),
    ...(login ? { login } : {}),
    ...(onRequest ? { onRequest } : {}),
    onMoved: warnOncePerMove(log),
  });
}

/**
 * A daemon follows a renamed jobset on every poll: the warning is given once per move (and
 * again when the job moves elsewhere), the polls after it log at debug level. One per client:
 * the targets that share a Hydra share the warning too.
 */
export function warnOncePerMove(log: Log): (move: { from: string; to: string }) => void {
  const warned = new Map<string, string>();
  return ({ from, to }) => {
    const message = `Hydra moved this job (a renamed jobset): ${from} now redirects to ${to}; following it, update the job URL in the configuration`;
    if (warned.get(from) === to) return log.debug(message, { movedTo: to });
    warned.set(from, to);
    log.warn(message, { movedTo: to });
  };
}

async function credentialsFor(netrc: AgentConfig["netrc"], host: string, log: Log) {
  if (!netrc) return undefined;
  const got = await readFlagFile("--netrc-file", netrc.path);
  if (got.kind === "unusable") {
    if (netrc.explicit) throw new UsageError(`--netrc-file ${netrc.path}: ${got.problem}`);
    // the default /etc/netrc, not named by the operator: hail goes on without it, as without one
    log.warn(`ignoring ${netrc.path}: ${got.problem}`);
    return undefined;
  }
  if (got.exposed) log.warn(exposedSecretWarning("--netrc-file", netrc.path, got.mode));
  return findCredentials(parseNetrc(got.text), host);
}

/** Messages name the file, never a byte of what is in it. */
async function loginFor({ user, passwordFile }: { user: string; passwordFile: string }, log: Log): Promise<HydraLogin> {
  const got = await readFlagFile("--hydra-password-file", passwordFile);
  if (got.kind === "unusable") throw new UsageError(`--hydra-password-file ${passwordFile}: ${got.problem}`);
  if (got.exposed) log.warn(exposedSecretWarning("--hydra-password-file", passwordFile, got.mode));
  return { user, password: passwordFromFile(got.text, passwordFile) };
}

/** The file holds the password alone; the newline an editor or `echo` adds is not part of it. */
function passwordFromFile(text: string, file: string): string {
  const password = text.replace(/\r?\n$/, "");
  if (password === "") throw new UsageError(`--hydra-password-file ${file} is empty; write the password of --hydra-user into it`);
  if (/[\r\n]/.test(password)) {
    throw new UsageError(`--hydra-password-file ${file} has more than one line; it must hold the password alone`);
  }
  return password;
}
