/**
 * Credentials never leave hail, in any encoding a server might echo them back in (raw,
 * JSON-escaped, also \uXXXX-only ASCII JSON and JSON inside JSON, URL- and form-encoded,
 * HTML-escaped, base64), and hail's own words are never redacted (SPEC section 7).
 *
 * So redaction is not a filter over whole messages: a message hail composes from its
 * configuration (URLs, profile names, paths) is its own text, and "[redacted]" in it would tell
 * the secret (a password `main` turning `/job/proj/main/` into `/job/proj/[redacted]/`).
 * Only text that comes from outside (a server's answer, a command's output) passes through
 * `redactCredentials`, where it enters hail (server-text.ts), and the Hydra client refuses data
 * it would act on that carries a credential as it was sent (hydra/credential-echo.ts).
 *
 * What counts as a credential in such text: every form of a remembered secret at least
 * MIN_FREE_LENGTH characters long, anywhere; and for any secret, the places where a request
 * carried it (`user:password` as Basic sends it, a `"password": "…"` field as the login sends
 * it, `hydra_session=…` as the Cookie header sends it), in every encoding. A shorter secret on
 * its own is an ordinary word too often (`main`, `127`, `p`): Hydra quotes the jobset hail asked
 * for ("Jobset ‘proj:main’ doesn't exist."), and a "[redacted]" there would again tell it. So a
 * short secret standing alone is left as it is; where it stands as a credential, it goes.
 */
export const REDACTED = "[redacted]";

/**
 * Below this length a secret is not looked for on its own, only in its credential places.
 * Eight is the shortest password NIST SP 800-63B accepts; random cookies are far longer, and
 * an eight-character string rarely occurs in a server's few hundred characters by chance.
 */
export const MIN_FREE_LENGTH = 8;

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

/** Every form of `text` worth looking for: itself and up to two encodings applied in turn. */
export function secretVariants(text: string): string[] {
  if (text === "") return [];
  const found = new Set<string>([text]);
  for (const first of ENCODINGS) {
    const once = first(text);
    found.add(once);
    for (const second of ENCODINGS) found.add(second(once));
  }
  return [...found].filter((v) => v !== "");
}

/** A password field as a login body or a form carries it, in the spellings encoders write. */
function passwordFields(password: string): string[] {
  const json = JSON.stringify(password);
  return [`"password":${json}`, `"password": ${json}`, `'password': '${password}'`, `password=${password}`];
}

/** Every form of one credential worth looking for in outside text, each in every encoding. */
export interface CredentialForms {
  /** As the request carried it: nobody else writes these, wherever they stand they are the credential. */
  sent: string[];
  /**
   * The password on its own, when long enough. Looked for in free text (an error page); not in
   * Hydra's names (a job, a store path), where it can only be a name that equals the password.
   */
  alone: string[];
}

const longEnough = (texts: readonly string[]) => texts.filter((text) => text.length >= MIN_FREE_LENGTH).flatMap(secretVariants);

/**
 * A password sent as HTTP Basic (`user:password`, base64 in the Authorization header) or in
 * Hydra's login body (the whole body too: a base64 of it holds no piece of its fields).
 */
export function passwordCredentials(user: string, password: string): CredentialForms {
  if (password === "") return { sent: [], alone: [] };
  const sent = [`${user}:${password}`, JSON.stringify({ username: user, password }), ...passwordFields(password)];
  return { sent: longEnough(sent), alone: longEnough([password]) };
}

/** A cookie sent as `name=value` in the Cookie header; its random value is nobody's name, so it counts as sent. */
export function cookieCredentials(name: string, value: string): CredentialForms {
  if (value === "") return { sent: [], alone: [] };
  return { sent: longEnough([`${name}=${value}`, value]), alone: [] };
}

/** All forms, longest first, as redactText wants them. */
export function allForms(forms: CredentialForms): string[] {
  return [...new Set([...forms.sent, ...forms.alone])].sort((a, b) => b.length - a.length);
}

/** `text` with every variant replaced, longest first so no shorter one leaves a piece of a longer. */
export function redactWith(variants: readonly string[], text: string): string {
  let out = text;
  for (const v of variants) if (out.includes(v)) out = out.replaceAll(v, REDACTED);
  return out;
}

const remembered = new Set<CredentialForms>();
let ordered: string[] = [];
let orderedSent: string[] = [];

function reorder(): void {
  const entries = [...remembered];
  ordered = allForms({ sent: entries.flatMap((e) => e.sent), alone: entries.flatMap((e) => e.alone) });
  orderedSent = allForms({ sent: entries.flatMap((e) => e.sent), alone: [] });
}

/**
 * Remember credentials (from passwordCredentials, cookieCredentials) for every later
 * redaction, until the returned function forgets them: a session cookie replaced by a newer
 * one, so that a daemon logging in daily does not search for a year of dead cookies.
 */
export function rememberCredentials(forms: CredentialForms): () => void {
  const entry = { sent: [...forms.sent], alone: [...forms.alone] };
  remembered.add(entry);
  reorder();
  return () => {
    if (remembered.delete(entry)) reorder();
  };
}

/** The longest remembered form: a cut made this far before the end of a text leaves no piece of one behind. */
export function longestCredential(): number {
  return ordered[0]?.length ?? 0;
}

/**
 * Where a credential stands in any text, whoever sent it: the value of an Authorization,
 * Proxy-Authorization, Cookie or Set-Cookie header (also as a JSON field, also escaped once
 * more), a Basic or Bearer token, and the userinfo of a URL.
 */
const USERINFO: [RegExp, string] = [/(\b[a-z][a-z0-9+.-]*:(?:\/|\\\/|%2f){2})[^\s/\\@"'<>]+@/gi, `$1${REDACTED}@`];
const CREDENTIAL_PLACES: ReadonlyArray<[RegExp, string]> = [
  [/\b((?:proxy-)?authorization|(?:set-)?cookie)(\\*["']?[ \t]*[:=][ \t]*\\*["']?)(?!\[redacted\])[^"'\\\r\n]+/gi, `$1$2${REDACTED}`],
  USERINFO,
];

/** URLs from a configuration hail does not own (Nix's substituters) as hail shows them: without userinfo. */
export function hideUserinfo(text: string): string {
  return text.replace(...USERINFO);
}

/**
 * A token after "Basic" that is base64 of `user:password`, or after "Bearer" one long enough to
 * be a token: "Basic authentication failed" is prose, not a credential.
 */
const AUTH_TOKEN = /\b(Basic|Bearer)[ \t]+([A-Za-z0-9+/_.~-]{4,}={0,2})/g;

function redactAuthToken(match: string, scheme: string, token: string): string {
  const credential = scheme === "Basic" ? Buffer.from(token, "base64").toString("latin1").includes(":") : token.length >= 16;
  return credential ? `${scheme} ${REDACTED}` : match;
}

/** `text` with the given credential forms (longest first) and any credential in a credential place redacted. */
export function redactText(variants: readonly string[], text: string): string {
  let out = redactWith(variants, text);
  for (const [pattern, replacement] of CREDENTIAL_PLACES) out = out.replace(pattern, replacement);
  return out.replace(AUTH_TOKEN, redactAuthToken);
}

/** Text from outside hail with every credential in it redacted: remembered ones in any encoding, and any in a credential place. */
export function redactCredentials(text: string): string {
  return redactText(ordered, text);
}

/** Whether a remembered credential occurs in `text` as it was sent (see CredentialForms), in any encoding. */
export function containsSentCredential(text: string): boolean {
  return orderedSent.some((v) => text.includes(v));
}
