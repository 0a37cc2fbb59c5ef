// Root basics: a zod refusal as a short `field.path: message` text, for the error messages of
// every border that parses JSON (Hydra's answers, the state file, the config file, a release manifest).
import type * as z from "zod";

const MAX_ISSUES = 5;

/** How a key in a path is shown: as it is for hail's own files, through serverText for a server's JSON. */
export type ShowKey = (key: string) => string;

/** A short `field.path: message; …` text for error messages (`[3].finished` inside arrays). */
export function describeZodError(err: z.ZodError, root = "(body)", showKey: ShowKey = (key) => key): string {
  const shown = err.issues.slice(0, MAX_ISSUES).map((issue) => `${formatPath(issue.path, root, showKey)}: ${issue.message}`);
  const more = err.issues.length - shown.length;
  return more > 0 ? `${shown.join("; ")}; and ${more} more` : shown.join("; ");
}

/** `[3].buildoutputs.out.path` */
export function formatPath(path: readonly PropertyKey[], root: string, showKey: ShowKey): string {
  if (path.length === 0) return root;
  return path.map((key, index) => (typeof key === "number" ? `[${key}]` : `${index === 0 ? "" : "."}${showKey(String(key))}`)).join("");
}
