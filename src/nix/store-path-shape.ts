/**
 * The shape of a store path hail will touch, as a pure test with no imports: the release room
 * (src/release/) checks a signed manifest's paths with it, below the deploy room that checks
 * Hydra's (src/resolve/store-path.ts).
 */

// Nix base32 omits e, o, u and t.
const HASH = "[0123456789abcdfghijklmnpqrsvwxyz]{32}";
// Nix allows [A-Za-z0-9+-._?=] in names, at most 211 of them; `?` is a shell glob character,
// so hail refuses it, and a leading "." would let ".." through.
const NAME = "[A-Za-z0-9+_=-][A-Za-z0-9+._=-]{0,210}";

export const DEFAULT_STORE_DIR = "/nix/store";

/**
 * A derivation (`<hash>-<name>.drv`) is a build recipe, never an output: `nix-store --realise`
 * of one builds it on this host, outside the binary cache's signature check.
 */
export function isDerivation(path: string): boolean {
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
