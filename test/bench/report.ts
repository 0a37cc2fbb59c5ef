// The benchmark's results: sections of rows, printed as a plain-text table and saved as JSON.

export interface Row {
  label: string;
  /** shown as is; `raw` keeps the number for JSON */
  value: string;
  raw?: number | null;
  note?: string;
}

export interface Section {
  title: string;
  rows: Row[];
  /** free lines printed under the rows (histograms, caveats) */
  lines?: string[];
}

export interface Report {
  startedAt: string;
  command: string;
  machine: string;
  sections: Section[];
}

export function renderReport(report: Report): string {
  const rows = report.sections.flatMap((s) => s.rows);
  const labelWidth = Math.max(20, ...rows.map((r) => r.label.length)) + 2;
  const valueWidth = Math.max(8, ...rows.map((r) => r.value.length)) + 2;
  const out: string[] = [
    `hail benchmark · ${report.startedAt} · ${report.machine}`,
    `command: ${report.command}`,
  ];
  for (const section of report.sections) {
    out.push("", section.title, "-".repeat(section.title.length));
    for (const row of section.rows) {
      const line = `  ${row.label.padEnd(labelWidth)}${row.value.padStart(valueWidth)}${row.note ? `   ${row.note}` : ""}`;
      out.push(line.trimEnd());
    }
    for (const line of section.lines ?? []) out.push(`  ${line}`.trimEnd());
  }
  return `${out.join("\n")}\n`;
}

/** A section that could not run (no Nix, a failure): the table says so instead of stopping. */
export function skippedSection(title: string, why: string): Section {
  return { title, rows: [{ label: "skipped", value: "-", raw: null, note: why }] };
}
