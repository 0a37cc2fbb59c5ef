import { InvalidResponse } from "../errors.js";

// Nix base32 omits e, o, u and t.
const HASH = "[0123456789abcdfghijklmnpqrsvwxyz]{32}";
// Nix allows [A-Za-z0-9+-._?=] in names, at most 211 of them; `?` is a shell glob character,
// so hail refuses it, and a leading "." would let ".." through.
const NAME = "[A-Za-z0-9+_=-][A-Za-z0-9+._=-]{0,210}";

export const DEFAULT_STORE_DIR = "/nix/store";

export function storeDirFromEnv(env: NodeJS.ProcessEnv): string {
  return env.NIX_STORE_DIR?.replace(/\/+$/, "") || DEFAULT_STORE_DIR;
}

/** True when `path` is exactly `<storeDir>/<hash>-<name>` and nothing else. */
export function isPlainStorePath(path: string, storeDir: string): boolean {
  const escaped = storeDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped}/${HASH}-${NAME}$`).test(path);
}

/**
 * The gate keeps anything Hydra says away from a command line until it passes here
 * (README, "Security": no shell).
 */
export function checkStorePath(path: string, storeDir: string, url: string): string {
  if (!isPlainStorePath(path, storeDir)) {
    throw new InvalidResponse(
      url,
      `output path ${JSON.stringify(path)} is not a plain store path under ${storeDir} ` +
        `(<hash>-<name>, a name of at most 211 characters without "/", "..", whitespace or shell characters); refusing to deploy it`,
    );
  }
  return path;
}
