/**
 * What every script hail runs for a profile is told — bin/activate, the health check,
 * bin/deactivate, the hooks: the profile, the store path it is at ("" when none) and that
 * build's Hydra id ("" when hail does not know it).
 */
export function hailEnv(profilePath: string, storePath: string | null, buildId: number | null): Record<string, string> {
  return {
    HAIL_PROFILE: profilePath,
    HAIL_STORE_PATH: storePath ?? "",
    HAIL_BUILD_ID: buildId === null ? "" : String(buildId),
  };
}
