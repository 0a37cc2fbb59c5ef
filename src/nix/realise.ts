// nix: Realising a store path from the binary cache only, never building it here.
import { NixCommandFailed } from "../errors.js";
import { realiseCommand } from "./commands.js";
import type { ProcessRunner } from "./runner.js";

/**
 * What Nix 2.8 says when `nix-store --realise … --max-jobs 0` finds no substitute: for an
 * output path "don't know how to build these paths", for a derivation "unable to start any
 * build". A cache that has the path but with no trusted signature ends the same way.
 */
const NOT_SUBSTITUTABLE = /don't know how to build these paths|unable to start any build/;

/** Whether a failed realise's message says no trusted cache had the path (rather than, say, a broken NAR). */
export function isNotSubstitutable(message: string): boolean {
  return NOT_SUBSTITUTABLE.test(message);
}

/**
 * Realises `storePath` from the configured binary caches, never by building it here. A path
 * no trusted cache has fails with a message that says so and what to check.
 */
export async function realiseFromCache(runner: ProcessRunner, storePath: string): Promise<void> {
  try {
    await runner.runNix(realiseCommand(storePath));
  } catch (err) {
    if (!(err instanceof NixCommandFailed) || !isNotSubstitutable(err.message)) throw err;
    throw new NixCommandFailed(
      `${storePath} is not in the binary cache: no substituter this host trusts has it (with a valid signature), ` +
        `and hail never builds on the host. Check that Hydra pushed it to the cache this host substitutes from ` +
        `(nix.conf: substituters, trusted-public-keys). ${err.message}`,
    );
  }
}
