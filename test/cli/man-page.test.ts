// hail(1) against the option table: every command, every option with its default, every exit
// code; roff that groff renders without a warning; and dist/hail.1 as the build wrote it.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { execa } from "execa";
import { COMMAND_LIST } from "../../src/cli/command-list.js";
import { manPage, roff } from "../../src/cli/man-page.js";
import { EXIT_NAMES, EXIT_WORDS, plainText } from "../../src/cli/help-exit-codes.js";
import { EXAMPLES } from "../../src/cli/help-examples.js";
import { COMMAND_OPTIONS, GROUPS, OPTIONS, flagOf, optionNamesOf } from "../../src/cli/option-table.js";
import type { CommandName, OptionName, OptionRow } from "../../src/cli/option-table.js";
import { EXIT } from "../../src/errors.js";

const PAGE = manPage("9.9.9");
const SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS", "FILES", "SIGNALS", "EXAMPLES", "SEE ALSO"];

/** The roff between `.SH title` and the next `.SH` (or `.SS` for a command's options). */
function part(text: string, start: string, endPrefix: string): string {
  const from = text.indexOf(`\n${start}\n`);
  assert.notEqual(from, -1, `no ${start}`);
  const end = text.indexOf(`\n${endPrefix}`, from + start.length + 2);
  return text.slice(from, end === -1 ? undefined : end);
}

/** Renders roff with groff to plain text at 80 columns; its warnings (-ww) on stderr. */
async function render(page: string): Promise<{ text: string; warnings: string }> {
  const r = await execa("groff", ["-man", "-Tutf8", "-ww", "-rLL=80n", "-P", "-c"], { input: page, reject: false, env: { LC_ALL: "C.UTF-8" } });
  assert.equal(r.exitCode, 0, r.stderr);
  return { text: r.stdout.replace(/.\x08/g, ""), warnings: r.stderr };
}

describe("hail(1), made from the option table", () => {
  it("has the sections of a man page, in order, and names the version", () => {
    const found = [...PAGE.matchAll(/^\.SH (.+)$/gm)].map((m) => m[1]?.replaceAll('"', ""));
    assert.deepEqual(found, SECTIONS);
    assert.match(PAGE, /^\.TH HAIL 1 "" "hail 9\.9\.9" "User Commands"$/m);
  });

  it("lists every command, with its aliases, in COMMANDS and SYNOPSIS", () => {
    const commands = part(PAGE, ".SH COMMANDS", ".SH");
    for (const c of COMMAND_LIST) assert.ok(commands.includes(`.B ${roff([c.name, ...c.aliases].join(", "))}`), c.name);
    assert.ok(part(PAGE, ".SH SYNOPSIS", ".SH").includes(".B hail\n.B completion\n.I <shell>"));
  });

  it("describes every option of every command, with its default, once", () => {
    for (const name of Object.keys(OPTIONS) as OptionName[]) {
      const row: OptionRow = OPTIONS[name];
      const command = (Object.keys(COMMAND_OPTIONS) as CommandName[]).find((c) => (COMMAND_OPTIONS[c] as readonly OptionName[]).includes(name));
      assert.ok(command);
      const options = part(PAGE, `.SS "hail ${command === "run" ? "run, deploy" : command}"`, ".S");
      const item = new RegExp(`^\\.BI? ${roff(flagOf(name)).replaceAll("\\", "\\\\")}(?: |$)[^\\n]*\\n(.*)$`, "m").exec(options);
      assert.ok(item, `${flagOf(name)} is not described under hail ${command}`);
      const shown = item[1] ?? "";
      assert.ok(shown.startsWith(roff(row.helpIn?.[command] ?? row.help)), `${flagOf(name)}: ${shown}`);
      if (row.default !== undefined) assert.ok(shown.endsWith(`Default: ${roff(row.default)}.`), `${flagOf(name)} does not say its default ${row.default}: ${shown}`);
    }
  });

  it("names, under each later command, the options it shares with an earlier one", () => {
    const plan = part(PAGE, '.SS "hail plan"', ".S");
    assert.ok(plan.includes(roff("Also --gate-job, --constituent, --job-uri, --profile, --profiles-dir,")), plan);
    assert.ok(!/^\.BI? \\-\\-gate\\-job/m.test(plan), "plan repeats run's --gate-job");
    const status = part(PAGE, '.SS "hail status"', ".S");
    assert.ok(status.includes(roff("Also --json, as for plan.")), status);
  });

  it("lists run's options under the headings of --help, in the order of --help", () => {
    const run = part(PAGE, '.SS "hail run, deploy"', ".S");
    const seen = [...run.matchAll(/^\.I (.+)$|^\.BI? (\\-\\-[^ \n]+)/gm)].map((m) => m[1] ?? m[2]);
    const expected = optionNamesOf("run").flatMap((name, i, names) => {
      const group = (OPTIONS[name] as OptionRow).group;
      const heading = i === 0 || (OPTIONS[names[i - 1] ?? name] as OptionRow).group !== group ? [roff(GROUPS[group])] : [];
      return [...heading, roff(flagOf(name))];
    });
    assert.deepEqual(seen, expected);
  });

  it("says what each exit code means and what to do, in the words of --help and docs/reference/exit-codes.md", () => {
    const status = part(PAGE, ".SH EXIT STATUS", ".SH");
    for (const name of EXIT_NAMES) {
      assert.ok(status.includes(roff(plainText(EXIT_WORDS[name].meaning))), name);
      assert.ok(status.includes(roff(plainText(EXIT_WORDS[name].todo))), name);
    }
  });

  it("has every example --help and docs/reference/cli.md show", () => {
    const examples = part(PAGE, ".SH EXAMPLES", ".SH");
    for (const e of EXAMPLES) assert.ok(examples.includes(`.EX\n${roff(e.lines.join("\n"))}\n.EE`), e.what);
  });

  it("gives every exit code in EXIT, in order", () => {
    const codes = [...part(PAGE, ".SH EXIT STATUS", ".SH").matchAll(/^\.B (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(codes, [...new Set(Object.values(EXIT))].sort((a, b) => a - b));
  });

  it("escapes roff: minus signs, backslashes, a line that starts with a dot, and other than ASCII", () => {
    assert.equal(roff("--gate-job"), "\\-\\-gate\\-job");
    assert.equal(roff("a\\b"), "a\\eb");
    assert.equal(roff(".hidden\n'quote"), "\\&.hidden\n\\&'quote");
    assert.equal(roff("window × f"), "window \\[u00D7] f");
  });

  it("renders with groff without a warning, flags as typed, and fits 80 columns", async (t) => {
    const { text, warnings } = await render(PAGE);
    assert.equal(warnings, "");
    assert.match(text, /^ {7}--gate-job url$/m, "the flag is printed with plain minus signs");
    assert.match(text, /window × f\(key, build\)/);
    const wide = text.split("\n").filter((l) => [...l].length > 80);
    assert.deepEqual(wide, []);
    t.diagnostic(`${text.split("\n").length} lines`);
  });

  it("roff a groff warns about is caught (the check above can fail)", async () => {
    const { warnings } = await render(`${PAGE}\n.XX unknown macro\n`);
    assert.match(warnings, /XX/);
  });

  it("dist/hail.1 is the page of this source (npm run build writes it; rebuild if this fails)", () => {
    const file = new URL("../../dist/hail.1", import.meta.url);
    assert.ok(existsSync(file), "dist/hail.1 is missing: run npm run build");
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    assert.equal(readFileSync(file, "utf8"), manPage(version));
  });
});
