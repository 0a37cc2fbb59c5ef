/**
 * netrc files (the format curl and the original hail read) for HTTP Basic credentials that a
 * reverse proxy in front of Hydra may want. Hydra itself never reads Basic auth. Pure: the
 * file is read (and checked) by agent/hydra-client.ts.
 */
export interface NetrcEntry {
  /** null for the `default` entry. */
  machine: string | null;
  login?: string;
  password?: string;
}

interface Token {
  text: string;
  /** Index just past the token, so `macdef` can skip its body. */
  end: number;
}

/** Parse netrc text. Unknown keywords are skipped, as curl does, rather than refused. */
export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  let current: NetrcEntry | undefined;
  let position = 0;
  const next = (): Token | undefined => {
    const token = readToken(text, position);
    if (token !== undefined) position = token.end;
    return token;
  };
  for (let token = next(); token !== undefined; token = next()) {
    switch (token.text) {
      case "machine":
        current = { machine: next()?.text ?? "" };
        entries.push(current);
        break;
      case "default":
        current = { machine: null };
        entries.push(current);
        break;
      case "login":
      case "password": {
        const value = next()?.text;
        if (current !== undefined && value !== undefined) current[token.text] = value;
        break;
      }
      case "account":
        next();
        break;
      case "macdef":
        // A macro body runs to the next blank line and belongs to no entry.
        position = skipMacroBody(text, token.end);
        current = undefined;
        break;
    }
  }
  return entries;
}

function readToken(text: string, from: number): Token | undefined {
  let index = from;
  for (;;) {
    while (index < text.length && /\s/.test(text.charAt(index))) index += 1;
    if (text.charAt(index) !== "#") break;
    while (index < text.length && text.charAt(index) !== "\n") index += 1;
  }
  if (index >= text.length) return undefined;
  if (text.charAt(index) === '"') return readQuoted(text, index + 1);
  const start = index;
  while (index < text.length && !/\s/.test(text.charAt(index))) index += 1;
  return { text: text.slice(start, index), end: index };
}

/** A double-quoted token may hold spaces; a backslash escapes the next character. */
function readQuoted(text: string, from: number): Token {
  let value = "";
  let index = from;
  while (index < text.length && text.charAt(index) !== '"') {
    if (text.charAt(index) === "\\" && index + 1 < text.length) index += 1;
    value += text.charAt(index);
    index += 1;
  }
  return { text: value, end: Math.min(index + 1, text.length) };
}

function skipMacroBody(text: string, from: number): number {
  const blankLine = /\n[ \t\r]*\n/g;
  blankLine.lastIndex = from;
  const match = blankLine.exec(text);
  return match === null ? text.length : match.index + match[0].length;
}

/**
 * Credentials for a host: the first `machine` whose name equals the host name
 * (case-insensitive, without port), else the `default` entry. An entry without a login
 * gives none; a missing password is empty, as in curl.
 */
export function findCredentials(
  entries: NetrcEntry[],
  host: string,
): { login: string; password: string } | undefined {
  const wanted = stripPort(host).toLowerCase();
  const entry =
    entries.find((candidate) => candidate.machine?.toLowerCase() === wanted) ??
    entries.find((candidate) => candidate.machine === null);
  if (entry?.login === undefined) return undefined;
  return { login: entry.login, password: entry.password ?? "" };
}

function stripPort(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  // A bare IPv6 address has several colons and no port.
  return host.indexOf(":") === host.lastIndexOf(":") ? host.replace(/:\d+$/, "") : host;
}
