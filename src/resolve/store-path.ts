// resolve: Checking a store path from Hydra before it comes near a command line.
import { InvalidResponse } from "../errors.js";
import { cutShort } from "./summary.js";

export { DEFAULT_STORE_DIR, isPlainStorePath } from "../nix/store-path-shape.js";
import { DEFAULT_STORE_DIR, isDerivation, isPlainStorePath } from "../nix/store-path-shape.js";

export function storeDirFromEnv(env: NodeJS.ProcessEnv): string {
  return env.NIX_STORE_DIR?.replace(/\/+$/, "") || DEFAULT_STORE_DIR;
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
