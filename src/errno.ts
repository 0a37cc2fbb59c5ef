/** True when `err` is a Node system error with this errno code (ENOENT, EEXIST, …). */
export function hasErrnoCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && "code" in err && err.code === code;
}
