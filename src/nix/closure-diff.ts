// nix: `nix store diff-closures`: the command and a parser of its output, for `plan`.
import type { Command } from "./commands.js";

/** `nix store diff-closures` is behind the nix-command feature in the Nix versions hail supports. */
export function diffClosuresCommand(oldPath: string, newPath: string): Command {
  return { file: "nix", args: ["--extra-experimental-features", "nix-command", "store", "diff-closures", oldPath, newPath] };
}

export interface ClosureChange {
  name: string;
  change: string;
}

/**
 * "myapp: 1.0 → 2.0, +12.3 KiB" or "myapp: +12.3 KiB" lines, colours stripped; anything else
 * (a Nix warning on stderr, say) is ignored.
 */
export function parseDiffClosures(output: string): ClosureChange[] {
  return output
    .replace(/\u001b\[[0-9;]*m/g, "")
    .split("\n")
    .map((line) => /^([^:\s][^:]*):\s+(.+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null && m[1] !== "warning" && m[1] !== "error" && /→|[+-]\d+(\.\d+)? [KMG]?i?B/.test(m[2] ?? ""))
    .map((m) => ({ name: m[1] ?? "", change: m[2] ?? "" }));
}
