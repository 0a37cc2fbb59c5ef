// root basics: The XDG state directory, for a hail that does not run as root.
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { UsageError } from "./errors.js";

/**
 * `$XDG_STATE_HOME`, or `~/.local/state` when it is unset or not absolute (the XDG base
 * directory spec says to ignore a relative one): where a user's Home Manager profile and, for
 * a hail not run as root, its state live. A home that is not absolute is a usage error.
 */
export function xdgStateHome(env: NodeJS.ProcessEnv, home: () => string = homedir): string {
  const given = env.XDG_STATE_HOME;
  if (given !== undefined && isAbsolute(given)) return given;
  const dir = home();
  if (!isAbsolute(dir)) {
    throw new UsageError(
      `cannot tell where the Home Manager profile or hail's state is: neither XDG_STATE_HOME nor HOME is an absolute path (HOME=${JSON.stringify(dir)})`,
      "set HOME, or give --profile and --state-dir",
    );
  }
  return join(dir, ".local", "state");
}
