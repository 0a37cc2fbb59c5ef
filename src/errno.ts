/** True when `err` is a Node system error with this errno code (ENOENT, EEXIST, …). */
export function hasErrnoCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && "code" in err && err.code === code;
}

/** Names `path` in a system error that lacks one (a write on an open file has none). */
export function withPath(err: unknown, path: string): unknown {
  if (typeof err === "object" && err !== null && "code" in err && !("path" in err)) Object.assign(err, { path });
  return err;
}

/** The errno code and path (and a rename's destination) of a Node system error, when it is one. */
export function systemErrorOf(err: unknown): { code: string; path: string | null; dest: string | null; syscall: string | null } | null {
  if (typeof err !== "object" || err === null || !("code" in err) || typeof err.code !== "string" || !/^E[A-Z]+$/.test(err.code)) return null;
  const text = (key: "path" | "dest" | "syscall"): string | null => {
    const value: unknown = Reflect.get(err, key);
    return typeof value === "string" ? value : null;
  };
  return { code: err.code, path: text("path"), dest: text("dest"), syscall: text("syscall") };
}
