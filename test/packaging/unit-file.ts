// Helpers for the packaging tests: read systemd unit files, expand the few specifiers the
// hail units use, split an ExecStart= line the way systemd does for these units, and run
// `systemd-analyze verify`.
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(fileURLToPath(new URL("../../", import.meta.url)));
export const UNIT_DIR = path.join(REPO, "nix", "systemd");

/** section name -> [key, value] in file order (a key may repeat: Environment=, After=) */
export type Unit = Map<string, Array<[string, string]>>;

export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Array<[string, string]> | null = null;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const [n, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = [];
      unit.set(header[1] as string, section);
      continue;
    }
    const eq = line.indexOf("=");
    if (section === null || eq < 1) throw new Error(`line ${n + 1}: not a directive: ${raw}`);
    section.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** all values of KEY in SECTION, in order */
export function values(unit: Unit, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** the one value of KEY in SECTION; throws when it is missing or repeated */
export function value(unit: Unit, section: string, key: string): string {
  const all = values(unit, section, key);
  if (all.length !== 1) throw new Error(`[${section}] ${key}= appears ${all.length} times`);
  return all[0] as string;
}

/** %i, %S (state root), %C (cache root), %t (runtime root, /run) and %%, as systemd expands them in a system unit */
export function expandSpecifiers(text: string, spec: { i: string; S: string; C: string; t?: string }): string {
  return text.replace(/%(.)/g, (whole, c: string) => {
    if (c === "%") return "%";
    if (c === "i" || c === "S" || c === "C") return spec[c];
    if (c === "t" && spec.t !== undefined) return spec.t;
    throw new Error(`specifier ${whole} not handled by the test`);
  });
}

/**
 * Splits a command line as systemd does for ExecStart= (systemd.service(5), "Command lines"):
 * words at white space, double-quoted words with C escapes, single-quoted words (without escapes,
 * the only kind the units use), "$VAR" alone as a word split into
 * words at white space, "${VAR}" kept as one word, "$$" a literal dollar. Specifiers must have
 * been expanded already.
 */
export function splitCommandLine(line: string, env: Record<string, string>): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^'\\]*)'|(\S+)/g;
  for (const m of line.matchAll(re)) {
    if (m[1] !== undefined) {
      words.push(unescapeDollars(JSON.parse(`"${m[1]}"`) as string));
      continue;
    }
    // a single-quoted word (ExecStartPre='s shell script), without backslashes: as written
    if (m[2] !== undefined) {
      words.push(m[2]);
      continue;
    }
    const word = m[3] as string;
    const split = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (split) {
      words.push(...(env[split[1] as string] ?? "").split(/\s+/).filter((w) => w !== ""));
      continue;
    }
    words.push(unescapeDollars(word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? "")));
  }
  return words;
}

function unescapeDollars(word: string): string {
  return word.replace(/\$\$/g, "$");
}

/** EnvironmentFile= contents: KEY=VALUE lines, # comments; no quoting used by the tests */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

export interface Verified {
  code: number;
  stderr: string;
  /** stderr lines about the units under test (the directory they are in, or their names) */
  complaints: string[];
}

/**
 * `systemd-analyze verify` on unit files in DIR. It loads units itself, without a running
 * systemd, and fails (exit 1) on a missing executable; unknown directives only produce a
 * "Unknown key" line on stderr, so callers check `complaints` as well as the exit code.
 */
export function verifyUnits(dir: string, names: string[]): Promise<Verified> {
  return new Promise((resolve, reject) => {
    execFile(
      "systemd-analyze",
      ["verify", "--man=no", ...names.map((n) => path.join(dir, n))],
      { cwd: dir, env: { ...process.env, SYSTEMD_LOG_LEVEL: "notice", SYSTEMD_LOG_COLOR: "0" }, timeout: 60_000 },
      (err, _stdout, stderr) => {
        if (err && typeof err.code !== "number") {
          reject(new Error(`systemd-analyze could not run (${String(err.code ?? err.message)}): it is required for these tests`));
          return;
        }
        const stems = names.map((n) => n.replace(/\.(service|timer)$/, ""));
        const complaints = stderr
          .split("\n")
          .filter((l) => l.trim() !== "")
          .filter((l) => l.includes(dir) || stems.some((s) => l.includes(s)));
        resolve({ code: err ? (err.code as number) : 0, stderr, complaints });
      },
    );
  });
}

export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}
