/**
 * The User-Agent hail sends on every HTTP request it makes (Hydra, its login, the binary cache
 * checks of `plan`). Public Hydras block clients that do not name themselves, and a bot wall in
 * front of one (hydra.nixos.org's proof-of-work check) lets through what its operators allowed:
 * they can allow `hail/`. No commit in it: an allow-list must not break on every build.
 */
import { BUILD_INFO, type BuildInfo } from "../build-info.js";

export function userAgentOf(info: Pick<BuildInfo, "version">): string {
  return `hail/${info.version} (pull deployer)`;
}

export const USER_AGENT = userAgentOf(BUILD_INFO);
