// Reads the shell examples out of README.md and docs/*.md: each fenced ```sh block, the HTML
// comments right above it (`<!-- not-run: why -->`, `<!-- exit: 75 -->`, `<!-- file: PATH -->`)
// and the `hail …` commands in it, split into words as sh would. Pure: no I/O but listing pages.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "shell-quote";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface DocCommand {
  /** 1-based line of the command's first line in its page */
  line: number;
  /** the words after `hail`, as sh would split them */
  args: string[];
  /** a problem reading the command (an operator, a variable, a `…`): fine only in a not-run block */
  unreadable?: string;
}

export interface DocBlock {
  page: string;
  /** 1-based line of the opening fence */
  line: number;
  lang: string;
  body: string;
  /** `<!-- not-run: REASON -->`: the reason, "" when the marker has none */
  notRun?: string;
  /** `<!-- exit: N -->`: what every hail command of the block exits with (default 0) */
  exit?: number;
  /** `<!-- file: PATH -->`: the block is the content of this file, written before the page's commands run */
  file?: string;
  commands: DocCommand[];
}

/** README.md and every docs/**.md except docs/reference/ (generated from the option table), relative to the repository. */
export function docPages(): string[] {
  const pages = ["README.md"];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (rel !== path.join("docs", "reference")) walk(rel);
      } else if (e.name.endsWith(".md")) pages.push(rel);
    }
  };
  walk("docs");
  return pages.sort();
}

export function readPage(page: string): string {
  return readFileSync(path.join(ROOT, page), "utf8");
}

const FENCE = /^(\s*)(`{3,})(\S*)\s*$/;
const MARKER = /^\s*<!--\s*(not-run|exit|file)\s*:?(.*?)-->\s*$/;

/** Every fenced block of a page, with the markers on the lines just above its fence. */
export function blocksOf(page: string, text: string): DocBlock[] {
  const lines = text.split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? "");
    if (!open) continue;
    const [, indent = "", ticks = "", lang = ""] = open;
    let end = i + 1;
    while (end < lines.length && !(lines[end] ?? "").trimStart().startsWith(ticks)) end++;
    const bodyLines = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    const block: DocBlock = { page, line: i + 1, lang, body: bodyLines.join("\n"), commands: [] };
    for (let j = i - 1; j >= 0; j--) {
      const m = MARKER.exec(lines[j] ?? "");
      if (!m) break;
      const value = (m[2] ?? "").trim();
      if (m[1] === "not-run") block.notRun = value;
      else if (m[1] === "exit") block.exit = Number(value);
      else block.file = value;
    }
    if (lang === "sh") block.commands = hailCommands(bodyLines, i + 2);
    blocks.push(block);
    i = end;
  }
  return blocks;
}

/** The `hail …` commands of a block's lines (`$ ` prompts allowed, `\` continues a line). */
export function hailCommands(lines: string[], firstLine: number): DocCommand[] {
  const commands: DocCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = (lines[i] ?? "").trim().replace(/^\$ /, "");
    if (!/^hail(\s|$)/.test(start)) continue;
    const line = firstLine + i;
    let text = start;
    while (text.endsWith("\\") && i + 1 < lines.length) text = `${text.slice(0, -1)} ${(lines[++i] ?? "").trim()}`;
    commands.push({ line, ...splitWords(text) });
  }
  return commands;
}

/** Words as sh splits them, up to a comment; anything sh would expand or join makes the command unreadable. */
export function splitWords(text: string): { args: string[]; unreadable?: string } {
  if (text.includes("…")) return { args: [], unreadable: "it has a `…` in it" };
  if (/\$/.test(text.replace(/'[^']*'/g, ""))) return { args: [], unreadable: "it expands a shell variable or a command" };
  const words: string[] = [];
  for (const entry of parse(text)) {
    if (typeof entry === "string") {
      words.push(entry);
      continue;
    }
    if ("comment" in entry) break;
    return { args: [], unreadable: `it uses the shell's ${JSON.stringify(entry)}` };
  }
  return { args: words.slice(1) };
}
