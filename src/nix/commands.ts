/** Every command hail runs, as data: built by pure functions, rendered by `plan`. */
export interface Command {
  file: string;
  args: string[];
}

/**
 * Substitution only: with `--max-jobs 0` Nix may not build anything on this host, so a path
 * that no trusted binary cache has fails ("unable to start any build" for a derivation,
 * "don't know how to build these paths" for an output) instead of being built here, unsigned.
 */
export function realiseCommand(storePath: string): Command {
  return { file: "nix-store", args: ["--realise", storePath, "--max-jobs", "0"] };
}

export function setProfileCommand(profilePath: string, storePath: string): Command {
  return { file: "nix-env", args: ["--profile", profilePath, "--set", storePath] };
}

export function switchGenerationCommand(profilePath: string, generation: number): Command {
  return { file: "nix-env", args: ["--profile", profilePath, "--switch-generation", String(generation)] };
}

export function deleteGenerationsCommand(profilePath: string, generations: number[]): Command {
  return { file: "nix-env", args: ["--profile", profilePath, "--delete-generations", ...generations.map(String)] };
}

export function activateCommand(profilePath: string): Command {
  return { file: `${profilePath}/bin/activate`, args: [] };
}

/** Quotes like a POSIX shell would need, for display only: hail never runs a shell. */
export function renderCommand(cmd: Command): string {
  return [cmd.file, ...cmd.args].map(quoteForDisplay).join(" ");
}

function quoteForDisplay(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
