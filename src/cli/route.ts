/**
 * How commander is to read the words after `hail`. `run` is the default command only when the
 * first word is an option (`hail --gate-job … --oneshot`, as the original hail was called): a
 * first word that is not a command is then an unknown command with a suggestion
 * ("unknown command 'deplyo'"), never "too many arguments for 'run'"; and bare `hail` prints
 * the usage with the commands (exit 64), rather than starting `run` without a target.
 */
export interface Route {
  args: string[];
  runIsDefault: boolean;
}

export function routeArgs(args: readonly string[], commands: readonly string[]): Route {
  const [first, second] = args;
  if (first === undefined) return { args: [], runIsDefault: false };
  if (first.startsWith("-")) return { args: [...args], runIsDefault: true };
  // `hail help deploy`: commander would print the whole usage and exit 1 without a word; the
  // unknown word, parsed on its own, is reported as what it is, with a suggestion
  if (first === "help" && second !== undefined && !second.startsWith("-") && !commands.includes(second)) return { args: [second], runIsDefault: false };
  return { args: [...args], runIsDefault: false };
}
