// cli: hail(1) in roff, written from the option table and the help texts.
import { EXIT } from "../errors.js";
import type { CommandEntry, OptionSpec } from "./command-list.js";
import { COMMAND_LIST, optionsOf } from "./command-list.js";
import { EXIT_NAMES, EXIT_WORDS, plainText } from "./help-exit-codes.js";
import { EXAMPLES } from "./help-examples.js";
import { GROUPS } from "./option-table.js";

/**
 * hail(1) in roff (man(7) macros), from the option table and the command list, with the
 * groups, examples and exit codes that --help and docs/reference/*.md show: the build
 * writes it to dist/hail.1 (src/build/man-page.ts), the npm package and the Nix package
 * install it. No date in .TH, so that the same source makes the same page.
 */
export function manPage(version: string): string {
  return [
    `.TH HAIL 1 "" "hail ${roff(version)}" "User Commands"`,
    // flags and paths must not be hyphenated, nor stretched to fill a line
    ".nh",
    ".ad l",
    ".SH NAME",
    "hail \\- pull\\-based continuous deployment for Nix from Hydra release gates",
    ".SH SYNOPSIS",
    ...COMMAND_LIST.flatMap(synopsis),
    ".SH DESCRIPTION",
    paragraph(
      "hail keeps a Nix profile at the newest good build of a Hydra release gate: an aggregate job whose constituents all built. " +
        "It asks Hydra for the gate's latest finished build, picks the constituent named by --constituent, checks it, " +
        "realises its store path from a binary cache (nix-store --realise), switches the profile to it (nix-env --profile P --set PATH) " +
        "and runs the profile's bin/activate. A deployment that fails is rolled back, and its build is marked known-bad and skipped until Hydra offers another.",
    ),
    paragraph("Run it as a daemon (hail run, polling every --poll-period), once from a timer or a script (hail run --oneshot), or in CI to see what would change (hail plan)."),
    ".SH COMMANDS",
    ...COMMAND_LIST.flatMap((c) => [".TP", `.B ${roff([c.name, ...c.aliases].join(", "))}`, roff(c.summary)]),
    ".SH OPTIONS",
    paragraph("Every command also takes --help. A config file (--config) takes the same options; those given on the command line win."),
    ...COMMAND_LIST.filter((c) => c.options !== null).flatMap(commandOptions),
    ".SH EXIT STATUS",
    paragraph("For run --oneshot, plan, status, hold and release. A daemon stopped by SIGTERM or SIGINT exits 0."),
    ...EXIT_NAMES.flatMap((name) => [".TP", `.B ${EXIT[name]}`, roff(plainText(`${EXIT_WORDS[name].meaning}. What to do: ${EXIT_WORDS[name].todo}.`))]),
    ".SH FILES",
    ...FILES.flatMap(([file, what]) => [".TP", `.I ${roff(file)}`, roff(what)]),
    ".SH SIGNALS",
    ...SIGNALS.flatMap(([signals, what]) => [".TP", `.B ${roff(signals)}`, roff(what)]),
    ".SH EXAMPLES",
    // not indented further (.RS): the gate URL's line would not fit 80 columns
    ...EXAMPLES.flatMap((e) => [paragraph(e.what), ".PP", ".EX", roff(e.lines.join("\n")), ".EE"]),
    ".SH SEE ALSO",
    ".BR nix\\-env (1),",
    ".BR nix\\-store (1),",
    ".BR systemd.service (5).",
    roff("The documentation in the docs/ directory of hail's source, and hail COMMAND --help."),
    "",
  ].join("\n");
}

function synopsis(c: CommandEntry): string[] {
  const name = c.options === "run" ? `.RB [ ${roff(c.name)} ]` : `.B ${roff(c.name)}`;
  const options = c.options === null ? [] : [".RI [ options ]"];
  const operands = c.operands === "" ? [] : [`.I ${roff(c.operands)}`];
  return [".PP", ".B hail", name, ...options, ...operands];
}

/**
 * A command's options with their defaults, under their groups' headings. One already
 * described, alike, under an earlier command (plan's target options are run's) is only
 * named, so that the page says each once.
 */
function commandOptions(c: CommandEntry, index: number): string[] {
  const earlier = COMMAND_LIST.slice(0, index).filter((e) => e.options !== null);
  const shownBy = (o: OptionSpec) => earlier.find((e) => optionsOf(e).some((p) => p.long === o.long && p.help === o.help));
  // every command takes --help: said once, above the commands' options
  const options = optionsOf(c).filter((o) => o.long !== "--help");
  const fresh = options.filter((o) => shownBy(o) === undefined);
  const named = new Map<string, string[]>();
  for (const o of options) {
    const by = shownBy(o);
    if (by !== undefined) named.set(by.name, [...(named.get(by.name) ?? []), o.long]);
  }
  const also = [...named].map(([by, longs]) => paragraph(`Also ${longs.join(", ")}, as for ${by}.`));
  const groups = (Object.keys(GROUPS) as (keyof typeof GROUPS)[]).flatMap((g) => {
    const inGroup = fresh.filter((o) => o.group === g);
    return inGroup.length === 0 ? [] : [".PP", `.I ${roff(GROUPS[g])}`, ...inGroup.flatMap(optionItem)];
  });
  return [`.SS "hail ${[c.name, ...c.aliases].join(", ")}"`, ...groups, ...also];
}

function optionItem(o: OptionSpec): string[] {
  const flag = o.placeholder === null ? `.B ${roff(o.long)}` : `.BI ${roff(o.long)} " ${roff(o.placeholder)}"`;
  const byDefault = o.default === null ? "" : ` Default: ${o.default === "" ? '""' : o.default}.`;
  return [".TP", flag, roff(`${o.help}.${byDefault}`.replace(/\.\.$/, "."))];
}

function paragraph(text: string): string {
  return `.PP\n${roff(text)}`;
}

/**
 * Text as roff prints it: a backslash and a minus escaped, a line that would start with a
 * control character guarded, and other than ASCII as a named Unicode character (roff
 * reads its input as Latin-1).
 */
export function roff(text: string): string {
  const escaped = text
    .replaceAll("\\", "\\e")
    .replaceAll("-", "\\-")
    .replace(/[^\x20-\x7e\n]/gu, (c) => `\\[u${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}]`);
  return escaped
    .split("\n")
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join("\n");
}

const FILES: readonly (readonly [string, string])[] = [
  ["/var/lib/hail/KEY.json", "the state of one profile (--state-dir): what is deployed, the last attempt and its error, known-bad builds, the hold."],
  ["/var/lib/hail/KEY.lock", "one hail per profile: a second one-shot exits 75, a second daemon refuses to start."],
  ["/nix/var/nix/profiles", "where profile names live (--profiles-dir)."],
  ["/etc/netrc", "HTTP Basic credentials for the Hydra host, when it exists (--netrc-file)."],
  ["/run/booted-system", "with --nixos, the running system whose kernel is compared (--booted-system)."],
];

/** docs/security.md, "Signals". */
const SIGNALS: readonly (readonly [string, string])[] = [
  ["SIGTERM, SIGINT", "the daemon finishes the running step, records it and exits 0. A one-shot and the other commands end at once; an activation goes on in its own process group, and the next run converges."],
  ["SIGUSR1", "the daemon polls now (at most one extra pass per --poll-min-interval; systemctl reload sends it). Every other command ignores it."],
  ["SIGQUIT", "the daemon stops as on SIGTERM; a one-shot warns and finishes its pass."],
  ["SIGHUP", "hail run (daemon or one-shot) warns that it reads its configuration only at start (restart it to apply changes) and carries on."],
  ["SIGUSR2, SIGALRM", "hail run (daemon or one-shot) warns that it gives them no meaning and carries on."],
];
