// Every relative link in README.md and docs/**.md leads to a file that exists and, with a
// `#anchor`, to a heading of that page (GitHub's anchors), so moving a section cannot leave a
// dead link behind.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { ROOT, docPages, readPage } from "./doc-examples.js";

/** The text outside fenced blocks, where a `#` starts a heading. */
function outsideFences(text: string): string {
  return text.replace(/^\s*(`{3,})[^\n]*\n[\s\S]*?^\s*\1\s*$/gm, "");
}

/** The text outside fenced blocks and inline code, where a link is a link. */
function prose(text: string): string {
  return outsideFences(text).replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens, -1, -2 … for repeats. */
export function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading = ""] of outsideFences(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function linksOf(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] ?? "");
}

/** Why a link from `page` is dead, or null when it resolves. */
function deadLink(page: string, link: string): string | null {
  if (/^[a-z][a-z+.-]*:/i.test(link)) return null; // https:, mailto: …: not ours to check here
  const [file = "", anchor] = link.split("#");
  const target = file === "" ? page : path.normalize(path.join(path.dirname(page), file));
  if (!existsSync(path.join(ROOT, target))) return `${target} does not exist`;
  if (anchor === undefined || !target.endsWith(".md")) return null;
  const anchors = anchorsOf(readFileSync(path.join(ROOT, target), "utf8"));
  return anchors.has(anchor) ? null : `${target} has no heading #${anchor}`;
}

describe("links in README.md and docs/", () => {
  it("GitHub's anchors, as this test makes them", () => {
    assert.deepEqual([...anchorsOf("# How it works\n## `hail plan` in CI\n### With npm, without Nix packaging\n## 73 and 74: the environment\n## Safety\n## Safety\n")], [
      "how-it-works",
      "hail-plan-in-ci",
      "with-npm-without-nix-packaging",
      "73-and-74-the-environment",
      "safety",
      "safety-1",
    ]);
  });

  for (const page of docPages()) {
    it(`${page}: every relative link resolves`, () => {
      const dead = linksOf(readPage(page)).flatMap((link) => {
        const why = deadLink(page, link);
        return why === null ? [] : [`(${link}): ${why}`];
      });
      assert.deepEqual(dead, []);
    });
  }

  it("README links to every docs page", () => {
    const linked = new Set(linksOf(readPage("README.md")).map((l) => l.split("#")[0]));
    const pages = docPages().filter((p) => p.startsWith("docs/") && path.dirname(p) === "docs");
    assert.deepEqual(pages.filter((p) => !linked.has(p)), []);
  });
});
