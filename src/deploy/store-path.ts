import { InvalidResponse } from "../errors.js";
import { cutShort } from "./summary.js";

// Nix base32 omits e, o, u and t.
const HASH = "[0123456789abcdfghijklmnpqrsvwxyz]{32}";
// Nix allows [A-Za-z0-9+-._?=] in names, at most 211 of them; `?` is a shell glob character,
// so hail refuses it, and a leading "." would let ".." through.
const NAME = "[A-Za-z0-9+_=-][A-Za-z0-9+._=-]{0,210}";

export const DEFAULT_STORE_DIR = "/nix/store";

export function storeDirFromEnv(env: NodeJS.ProcessEnv): string {
  return env.NIX_STORE_DIR?.replace(/\/+$/, "") || DEFAULT_STORE_DIR;
}

/**
 * A derivation (`<hash>-<name>.drv`) is a build recipe, never an output: `nix-store --realise`
 * of one builds it on this host, outside the binary cache's signature check.
 */
function isDerivation(path: string): boolean {
  return path.endsWith(".drv");
}

/**
 * True when `path` is exactly `<storeDir>/<hash>-<name>` and nothing else, and not a
 * derivation: the only kind of path hail realises, switches a profile to, or runs from.
 */
export function isPlainStorePath(path: string, storeDir: string): boolean {
  const escaped = storeDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped}/${HASH}-${NAME}$`).test(path) && !isDerivation(path);
}

/**
 * The gate keeps anything Hydra says away from a command line until it passes here
 * (docs/security.md, "Security": no shell).
 */
export function checkStorePath(path: string, storeDir: string, url: string): string {
  if (isDerivation(path)) {
    throw new InvalidResponse(
      url,
      `output path ${JSON.stringify(cutShort(path, 300))} is a derivation (.drv), a build recipe rather than a build output; ` +
        `realising it would build it on this host outside the binary cache's signature check, so hail refuses to deploy it ` +
        `(check --output and the job: Hydra lists outputs under buildoutputs, the derivation under drvpath)`,
    );
  }
  if (!isPlainStorePath(path, storeDir)) {
    throw new InvalidResponse(
      url,
      `output path ${JSON.stringify(cutShort(path, 300))} is not a plain store path under ${storeDir} ` +
        `(<hash>-<name>, a name of at most 211 characters without "/", "..", whitespace or shell characters); refusing to deploy it`,
    );
  }
  return path;
}
