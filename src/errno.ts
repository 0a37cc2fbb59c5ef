/** True when `err` is a Node system error with this errno code (ENOENT, EEXIST, …). */
export function hasErrnoCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && "code" in err && err.code === code;
}

/** Names `path` in a system error that lacks one (a write on an open file has none). */
export function withPath(err: unknown, path: string): unknown {
  if (typeof err === "object" && err !== null && "code" in err && !("path" in err)) Object.assign(err, { path });
  return err;
}

/** The errno code and path of a Node system error, when it is one. */
export function systemErrorOf(err: unknown): { code: string; path: string | null; syscall: string | null } | null {
  if (typeof err !== "object" || err === null || !("code" in err) || typeof err.code !== "string" || !/^E[A-Z]+$/.test(err.code)) return null;
  const path = "path" in err && typeof err.path === "string" ? err.path : null;
  const syscall = "syscall" in err && typeof err.syscall === "string" ? err.syscall : null;
  return { code: err.code, path, syscall };
}
