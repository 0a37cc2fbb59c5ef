import { readFile } from "node:fs/promises";
import { UsageError, describeError } from "../errors.js";
import { HydraClient } from "../hydra/client.js";
import { findCredentials, loadNetrc } from "../hydra/netrc.js";
import type { HydraLogin } from "../hydra/session.js";
import type { Log } from "../log.js";
import type { AgentConfig } from "./config.js";

/**
 * The Hydra client for a target: netrc credentials for its host when there are any, and the
 * login of a private Hydra (its password read from its file now, at start).
 */
export async function createHydraClient(
  config: Pick<AgentConfig, "netrc" | "timeoutMs" | "target" | "hydraLogin">,
  log: Log,
  onRequest?: (info: { method: string; url: string }) => void,
): Promise<HydraClient> {
  const { baseUrl } = config.target.source.job;
  const credentials = await credentialsFor(config.netrc, new URL(baseUrl).hostname, log);
  const login = config.hydraLogin === null ? undefined : await loginFor(config.hydraLogin);
  return new HydraClient({
    baseUrl,
    timeoutMs: config.timeoutMs,
    ...(credentials ? { credentials } : {}),
    ...(login ? { login } : {}),
    ...(onRequest ? { onRequest } : {}),
    onMoved: ({ from, to }) =>
      log.warn(`Hydra moved this job (a renamed jobset): ${from} now redirects to ${to}; following it, update the job URL in the configuration`, { movedTo: to }),
  });
}

async function credentialsFor(netrc: AgentConfig["netrc"], host: string, log: Log) {
  if (!netrc) return undefined;
  try {
    return findCredentials(await loadNetrc(netrc.path), host);
  } catch (err) {
    const why = describeError(err);
    if (netrc.explicit) {
      throw new UsageError(`--netrc-file ${netrc.path}: cannot read it (${why}); fix the path or its permissions`);
    }
    log.warn(`ignoring ${netrc.path}: cannot read it (${why})`);
    return undefined;
  }
}

/** Messages name the file, never a byte of what is in it. */
async function loginFor({ user, passwordFile }: { user: string; passwordFile: string }): Promise<HydraLogin> {
  let text: string;
  try {
    text = await readFile(passwordFile, "utf8");
  } catch (err) {
    const why = describeError(err);
    throw new UsageError(`--hydra-password-file ${passwordFile}: cannot read it (${why}); fix the path or its permissions`);
  }
  return { user, password: passwordFromFile(text, passwordFile) };
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
