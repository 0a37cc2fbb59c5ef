/**
 * OpenSSH's allowed_signers file (ssh-keygen(1), "ALLOWED SIGNERS"): who may sign a release.
 * `principals [options] keytype base64-key [comment]`, read as ssh-keygen reads it, so one file
 * serves `ssh-keygen -Y verify` and hail alike.
 */
import { UsageError } from "../errors.js";
import { WireError, WireReader } from "./ssh-wire.js";

export interface AllowedSigner {
  principals: string[];
  /** the namespaces="…" patterns, or null when the line has none (any namespace) */
  namespaces: string[] | null;
  keyType: string;
  /** the SSH wire blob */
  publicKey: Uint8Array;
  /** FILE:LINE */
  source: string;
  /** valid-after="…": the key signs nothing before it */
  validAfter: Date | null;
  /** valid-before="…": the key signs nothing after it */
  validBefore: Date | null;
}

const HINT = "see ssh-keygen(1), ALLOWED SIGNERS: `PRINCIPALS [namespaces=\"hail-release\"] ssh-ed25519 AAAA… [comment]`";

/** One whitespace-delimited word, or a "quoted" one (the quotes dropped), and the rest of the line. */
function nextWord(text: string): { word: string; rest: string } | null {
  const line = text.trimStart();
  if (line === "") return null;
  if (line.startsWith('"')) {
    const close = line.indexOf('"', 1);
    if (close === -1) return null;
    return { word: line.slice(1, close), rest: line.slice(close + 1) };
  }
  const end = line.search(/[ \t]/);
  return end === -1 ? { word: line, rest: "" } : { word: line.slice(0, end), rest: line.slice(end) };
}

/** The options word: up to the first blank outside double quotes. */
function optionsWord(text: string): { word: string; rest: string } {
  const line = text.trimStart();
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (!quoted && (line[i] === " " || line[i] === "\t")) return { word: line.slice(0, i), rest: line.slice(i) };
  }
  return { word: line, rest: "" };
}

/** A word that names a key type rather than options (ssh-keygen tries to read a key first). */
function looksLikeKeyType(word: string): boolean {
  return /^(ssh-|ecdsa-sha2-|sk-)[A-Za-z0-9@.-]+$/.test(word);
}

interface LineOptions {
  namespaces: string[] | null;
  validAfter: Date | null;
  validBefore: Date | null;
}

/** ssh-keygen's time: YYYYMMDD[HHMM[SS]], UTC with a "Z" or "UTC" suffix, local time without. */
export function parseSignerTime(text: string): Date | null {
  const match = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z|UTC)?$/i.exec(text);
  if (match === null) return null;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const utc = match[7] !== undefined;
  const date = utc ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s);
  const back = utc
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()];
  // strptime refuses a 31st of February or a 25th hour; Date would roll them over
  return back.join() === [y, mo, d, h, mi, s].join() ? date : null;
}

/** The options of one line, split on commas outside quotes. */
function parseOptions(word: string, where: string): LineOptions {
  const options: LineOptions = { namespaces: null, validAfter: null, validBefore: null };
  const parts = word.match(/(?:[^,"]|"[^"]*")+/g) ?? [];
  if (parts.join(",") !== word) throw new UsageError(`${where}: cannot read the options ${JSON.stringify(word)} (an empty option or an unclosed quote)`, HINT);
  const seen = new Set<string>();
  for (const part of parts) {
    const match = /^([A-Za-z-]+)(?:="([^"]*)")?$/.exec(part);
    const name = match?.[1]?.toLowerCase();
    const value = match?.[2];
    if (name === undefined) throw new UsageError(`${where}: cannot read the option ${JSON.stringify(part)}`, HINT);
    if (seen.has(name)) throw new UsageError(`${where}: the option ${name} is given twice`, HINT);
    seen.add(name);
    if (name === "cert-authority" && value === undefined) {
      throw new UsageError(
        `${where}: cert-authority lines (SSH certificates) are not supported for release signatures`,
        "list each release key itself, one line per key",
      );
    } else if (name === "namespaces" && value !== undefined) {
      options.namespaces = value.split(",");
    } else if ((name === "valid-after" || name === "valid-before") && value !== undefined) {
      const time = parseSignerTime(value);
      if (time === null) throw new UsageError(`${where}: ${name}="${value}" is not a time ssh-keygen reads`, "use YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, with a Z for UTC");
      if (name === "valid-after") options.validAfter = time;
      else options.validBefore = time;
    } else {
      throw new UsageError(`${where}: unknown option ${JSON.stringify(part)}`, `allowed_signers lines take namespaces="…", valid-after="…" and valid-before="…"; ${HINT}`);
    }
  }
  if (options.validAfter !== null && options.validBefore !== null && options.validBefore <= options.validAfter) {
    throw new UsageError(`${where}: valid-before is not after valid-after`, "fix the key's validity times");
  }
  return options;
}

/** The key blob of `base64`, whose own type name must be `keyType`. */
function parseKey(keyType: string, base64: string, where: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) throw new UsageError(`${where}: the ${keyType} key is not base64`, HINT);
  const blob = new Uint8Array(Buffer.from(base64, "base64"));
  let named: string;
  try {
    named = new WireReader(blob).text();
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
    throw new UsageError(`${where}: the ${keyType} key is not an SSH public key (${err.message})`, HINT);
  }
  if (named !== keyType) throw new UsageError(`${where}: the line says ${keyType} but the key inside is ${JSON.stringify(named)}`, HINT);
  return blob;
}

function parseLine(line: string, where: string): AllowedSigner {
  const principalsWord = nextWord(line);
  if (principalsWord === null) throw new UsageError(`${where}: cannot read the principals (an unclosed quote?)`, HINT);
  const principals = principalsWord.word.split(",");
  if (principals.some((p) => p === "")) throw new UsageError(`${where}: an empty principal in ${JSON.stringify(principalsWord.word)}`, HINT);
  let rest = principalsWord.rest;
  let options: LineOptions = { namespaces: null, validAfter: null, validBefore: null };
  let typeWord = nextWord(rest);
  if (typeWord !== null && !looksLikeKeyType(typeWord.word)) {
    const opts = optionsWord(rest);
    options = parseOptions(opts.word, where);
    rest = opts.rest;
    typeWord = nextWord(rest);
  }
  if (typeWord === null) throw new UsageError(`${where}: the line has no key`, HINT);
  if (!looksLikeKeyType(typeWord.word)) throw new UsageError(`${where}: ${JSON.stringify(typeWord.word)} is not an SSH key type`, HINT);
  const keyWord = nextWord(typeWord.rest);
  if (keyWord === null) throw new UsageError(`${where}: the ${typeWord.word} key itself is missing`, HINT);
  return { principals, ...options, keyType: typeWord.word, publicKey: parseKey(typeWord.word, keyWord.word, where), source: where };
}

/** Every signer in `text` (the contents of `source`); a line hail cannot read is a UsageError naming FILE:LINE. */
export function parseAllowedSigners(text: string, source: string): AllowedSigner[] {
  return text.split("\n").flatMap((raw, index) => {
    const line = raw.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) return [];
    return [parseLine(line, `${source}:${index + 1}`)];
  });
}

/** ssh's pattern list (match_pattern_list): `*` and `?` wildcards, `!` negates; a negated match wins. */
export function matchesPatternList(value: string, patterns: readonly string[]): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith("!");
    const glob = negated ? pattern.slice(1) : pattern;
    const regex = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
    if (!regex.test(value)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}
