// nix: The binary caches Nix is configured with, for `plan` and narinfo lookups.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

export const DEFAULT_SUBSTITUTER = "https://cache.nixos.org";

/**
 * The binary caches Nix would substitute from, read the way Nix layers its configuration:
 * the system nix.conf, then the user's, then $NIX_CONFIG; `substituters` replaces the list,
 * `extra-substituters` adds to it. `plan` reads narinfo files from them without running Nix.
 * (`include` directives and `--option` on a nix command line are not followed.)
 */
export async function configuredSubstituters(env: NodeJS.ProcessEnv): Promise<string[]> {
  const confDir = env.NIX_CONF_DIR ?? "/etc/nix";
  const userDir = join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), ".config"), "nix");
  const texts = await Promise.all([readOrEmpty(join(confDir, "nix.conf")), readOrEmpty(join(userDir, "nix.conf"))]);
  return substitutersFrom([...texts, env.NIX_CONFIG ?? ""]);
}

/** Pure: the substituter list after applying each configuration text in order. */
export function substitutersFrom(texts: readonly string[]): string[] {
  // As Nix applies settings: in order, `substituters` replacing the value so far (extras
  // included), `extra-substituters` appending to it.
  let list = [DEFAULT_SUBSTITUTER];
  for (const text of texts) {
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*$/, "").trim();
      const match = /^(extra-)?substituters\s*=\s*(.*)$/.exec(line);
      if (!match) continue;
      const urls = (match[2] ?? "").split(/\s+/).filter(Boolean);
      list = match[1] ? [...list, ...urls] : urls;
    }
  }
  return [...new Set(list.map((u) => u.replace(/\/+$/, "")))];
}

async function readOrEmpty(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return "";
  }
}
