// root basics: hail's logging surface: one message and one flat object of fields per line, always
// on stderr.
import { hostname } from "node:os";
import { Logger } from "tslog";
import { BUILD_INFO } from "./build-info.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "pretty" | "json";
export type LogFields = Record<string, string | number | boolean | null | undefined | readonly number[]>;

/** hail's logging surface: one message and one flat object of fields per line, always on stderr. */
export interface Log {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Log;
}

const LEVEL_NUMBER: Record<LogLevel, number> = { debug: 2, info: 3, warn: 4, error: 5 };

export function createLog(opts: { format: LogFormat; level: LogLevel; color: boolean }): Log {
  const logger = new Logger<LogFields>({
    type: opts.format,
    minLevel: LEVEL_NUMBER[opts.level],
    stylePrettyLogs: opts.color,
    hideLogPositionForProduction: true,
    prettyLogTemplate: "{{yyyy}}-{{mm}}-{{dd}}T{{hh}}:{{MM}}:{{ss}}Z {{logLevelName}} ",
    overwrite: {
      transportJSON: (json) => process.stderr.write(`${JSON.stringify(withHailMeta(json, hailMetaFields()))}\n`),
      transportFormatted: (meta, args) => process.stderr.write(`${meta}${args.map(formatArg).join(" ")}\n`),
    },
  });
  return wrap(logger, {}, LEVEL_NUMBER[opts.level]);
}

/**
 * What hail adds to tslog's `_meta` on each JSON line: which hail (version, commit) on which
 * Node.js wrote it, and the host as the kernel names it. tslog takes the host from $HOSTNAME,
 * which shells set but systemd, cron and `env -i` do not ("unknown" there); os.hostname() is
 * read once, at the first JSON line.
 */
interface HailMeta {
  hostname: string;
  version: string;
  commit: string | null;
  nodejs: string;
}

let hailMeta: HailMeta | undefined;
function hailMetaFields(): HailMeta {
  hailMeta ??= { hostname: hostname(), version: BUILD_INFO.version, commit: BUILD_INFO.commit, nodejs: BUILD_INFO.nodejs };
  return hailMeta;
}

function withHailMeta(json: unknown, extra: HailMeta): unknown {
  if (typeof json !== "object" || json === null) return json;
  const { _meta, ...rest } = json as Record<string, unknown>;
  const base = typeof _meta === "object" && _meta !== null ? _meta : {};
  return { ...rest, _meta: { ...base, ...extra } };
}

function wrap(logger: Logger<LogFields>, base: LogFields, minLevel: number): Log {
  const emit = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    // Checked here too: a dropped debug line costs no redaction.
    if (LEVEL_NUMBER[level] < minLevel) return;
    logger[level](sanitizeFields({ msg, ...base, ...stripUndefined(fields) }));
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => wrap(logger, { ...base, ...stripUndefined(fields) }, minLevel),
  };
}

/**
 * Text from Hydra (job names, error texts) and from commands reaches the log: control
 * characters are written as escapes, so no value can start a forged line or colour the
 * terminal, in pretty and JSON lines alike. Credentials were taken out where such text entered
 * hail (server-text.ts): redacting whole lines here would redact hail's own words too.
 */
function sanitizeText(text: string): string {
  return escapeControls(text);
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A text of many lines (the tail of nix's output) as one: its non-empty lines, trimmed, joined with " | ". */
export function oneLine(text: string): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .join(" | ");
}

/** For messages printed as they are (`hail: …` on stderr): escaped, continuation lines indented so none looks like a line of its own. */
export function printableMessage(text: string): string {
  return text.split("\n").map(escapeControls).join("\n  ");
}

function sanitizeFields(fields: LogFields): LogFields {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [sanitizeText(k), typeof v === "string" ? sanitizeText(v) : v]));
}

function stripUndefined(fields: LogFields | undefined): LogFields {
  return Object.fromEntries(Object.entries(fields ?? {}).filter(([, v]) => v !== undefined));
}

/** Pretty lines read "message key=value …" rather than a dumped object. */
function formatArg(arg: unknown): string {
  if (typeof arg !== "object" || arg === null) return String(arg);
  const { msg, ...rest } = arg as Record<string, unknown>;
  const pairs = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return [String(msg ?? ""), ...pairs].join(" ");
}
