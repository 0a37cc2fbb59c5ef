/**
 * Which hail this is: the version from package.json and, when the bundle was made in a git
 * checkout, its short commit (with `-dirty` when tracked files had changes). src/build/bundle.mjs
 * writes both into dist/hail.mjs with esbuild's `define`; run from source (tsx, the unit tests)
 * there is no bundle step, and the version says so. `hail --version`, the metric hail_build_info
 * and every JSON log line's `_meta` show the same identity, and the Node.js that runs it.
 */
declare const HAIL_BUILD_VERSION: string;
declare const HAIL_BUILD_COMMIT: string;

export interface BuildInfo {
  version: string;
  /** null when built outside git (a Nix build's source has no .git) */
  commit: string | null;
  /** process.version of the runtime: the Nix wrapper's node, or whichever `node` the shebang found */
  nodejs: string;
}

export const BUILD_INFO: BuildInfo = {
  version: typeof HAIL_BUILD_VERSION === "string" ? HAIL_BUILD_VERSION : "0.0.0-source",
  commit: typeof HAIL_BUILD_COMMIT === "string" && HAIL_BUILD_COMMIT !== "" ? HAIL_BUILD_COMMIT : null,
  nodejs: process.version,
};

/** What `hail --version` prints: `0.2.0 (abc1234)` from a git checkout, `0.2.0` otherwise. */
export function versionText(info: BuildInfo = BUILD_INFO): string {
  return info.commit === null ? info.version : `${info.version} (${info.commit})`;
}
