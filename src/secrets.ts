/**
 * Credentials never leave hail, in any encoding a server might echo them back in: raw,
 * JSON-escaped (also \uXXXX-only ASCII JSON and JSON inside JSON), URL- and form-encoded,
 * HTML-escaped, and base64 (the Basic token is base64 of `user:password`). Redaction runs on
 * whole texts before anything is cut short, so no half of a secret survives a truncation.
 *
 * The process keeps one registry: the Hydra client adds what it sends (netrc password, Basic
 * token, login password, session cookie) and every place text leaves hail (error messages,
 * logs, /healthz) passes it through `redactSecrets`.
 */
export const REDACTED = "[redacted]";

type Encode = (text: string) => string;

const hex4 = (c: string, upper: boolean) => {
  const code = c.charCodeAt(0).toString(16).padStart(4, "0");
  return `\\u${upper ? code.toUpperCase() : code}`;
};

const jsonEscape = (ascii: "no" | "lower" | "upper", slash: boolean): Encode => (s) => {
  let out = JSON.stringify(s).slice(1, -1);
  if (ascii !== "no") out = out.replace(/[^\x20-\x7e]/g, (c) => hex4(c, ascii === "upper"));
  return slash ? out.replaceAll("/", "\\/") : out;
};

const ENCODINGS: readonly Encode[] = [
  // JSON, also as encoders that write ASCII only (Python's json.dumps, Perl's JSON ascii) or escape "/".
  ...(["no", "lower", "upper"] as const).flatMap((ascii) => [jsonEscape(ascii, false), jsonEscape(ascii, true)]),
  // Go's encoding/json (many proxies) also writes <, > and & as \u003c, \u003e, \u0026.
  (s) => jsonEscape("no", false)(s).replace(/[<>&\u2028\u2029]/g, (c) => hex4(c, false)),
  encodeURIComponent,
  (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  (s) => new URLSearchParams({ s }).toString().slice(2),
  (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
  (s) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c),
  (s) => Buffer.from(s, "utf8").toString("base64"),
  (s) => Buffer.from(s, "utf8").toString("base64url"),
];

/** Every form of `secret` worth looking for: itself and up to two encodings applied in turn. */
export function secretVariants(secret: string): string[] {
  if (secret === "") return [];
  const found = new Set<string>([secret]);
  for (const first of ENCODINGS) {
    const once = first(secret);
    found.add(once);
    for (const second of ENCODINGS) found.add(second(once));
  }
  return [...found].filter((v) => v !== "");
}

/** The Basic token of `user:password`, with the password's own forms. */
export function basicAuthVariants(user: string, password: string): string[] {
  return [...secretVariants(`${user}:${password}`), ...secretVariants(password)];
}

/** `text` with every variant replaced, longest first so no shorter one leaves a piece of a longer. */
export function redactWith(variants: readonly string[], text: string): string {
  let out = text;
  for (const v of variants) if (out.includes(v)) out = out.replaceAll(v, REDACTED);
  return out;
}

const registry = new Set<string>();
let ordered: string[] = [];

/** Remember secrets (their variants are computed here) for every later `redactSecrets`. */
export function rememberSecrets(variants: readonly string[]): void {
  const before = registry.size;
  for (const v of variants) registry.add(v);
  if (registry.size !== before) ordered = [...registry].sort((a, b) => b.length - a.length);
}

export function rememberSecret(secret: string): void {
  rememberSecrets(secretVariants(secret));
}

export function redactSecrets(text: string): string {
  return ordered.length === 0 ? text : redactWith(ordered, text);
}
