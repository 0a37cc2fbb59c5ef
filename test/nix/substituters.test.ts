import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_SUBSTITUTER, configuredSubstituters, substitutersFrom } from "../../src/nix/substituters.js";

const A = "http://a.example";
const B = "http://b.example";
const C = "http://c.example";

describe("substitutersFrom: the caches after layering nix.conf texts in order", () => {
  // [what, [system nix.conf, user nix.conf, NIX_CONFIG], expected]
  const cases: Array<[string, string[], string[]]> = [
    ["nothing configured: cache.nixos.org", [], [DEFAULT_SUBSTITUTER]],
    ["empty texts: cache.nixos.org", ["", "", ""], [DEFAULT_SUBSTITUTER]],
    ["the default is https://cache.nixos.org", [], ["https://cache.nixos.org"]],
    ["substituters = replaces the default", [`substituters = ${A}`], [A]],
    ["several, any whitespace", [`substituters =   ${A}\t${B}  `], [A, B]],
    ["no spaces around =", [`substituters=${A} ${B}`], [A, B]],
    ["indented line", [`   substituters = ${A}`], [A]],
    ["extra-substituters appends to the default", [`extra-substituters = ${B}`], [DEFAULT_SUBSTITUTER, B]],
    ["extra-substituters appends to a replaced list", [`substituters = ${A}\nextra-substituters = ${B}`], [A, B]],
    ["a later file's substituters = replaces an earlier one's", [`substituters = ${A}`, `substituters = ${B}`], [B]],
    ["NIX_CONFIG comes last and wins", [`substituters = ${A}`, `substituters = ${B}`, `substituters = ${C}`], [C]],
    ["extras from every layer add up", [`extra-substituters = ${A}`, `extra-substituters = ${B}`, `extra-substituters = ${C}`], [DEFAULT_SUBSTITUTER, A, B, C]],
    ["NIX_CONFIG with several lines", ["", "", `sandbox = false\nsubstituters = ${A}\nrequire-sigs = true`], [A]],
    ["`substituters =` with nothing: no cache at all", [`substituters =`], []],
    ["a commented-out line is ignored", [`# substituters = ${A}`], [DEFAULT_SUBSTITUTER]],
    ["a trailing comment is ignored", [`substituters = ${A} # our mirror`], [A]],
    ["a comment right after the value", [`substituters = ${A}#mirror`], [A]],
    ["trusted-substituters is a different setting", [`trusted-substituters = ${A}`], [DEFAULT_SUBSTITUTER]],
    ["extra-trusted-substituters too", [`extra-trusted-substituters = ${A}`], [DEFAULT_SUBSTITUTER]],
    ["other settings are ignored", [`sandbox = false\nrequire-sigs = true\ntrusted-public-keys = k:abc`], [DEFAULT_SUBSTITUTER]],
    ["trailing slashes are dropped", [`substituters = ${A}/ https://cache.nixos.org/`], [A, DEFAULT_SUBSTITUTER]],
    ["several trailing slashes too", [`substituters = ${A}//`], [A]],
    ["duplicates appear once, in first position", [`substituters = ${A} ${B} ${A}`], [A, B]],
    ["an extra that repeats the list appears once", [`substituters = ${A}`, `extra-substituters = ${A}`], [A]],
    ["the default repeated as an extra appears once", [`extra-substituters = https://cache.nixos.org`], [DEFAULT_SUBSTITUTER]],
    // Found while writing these tests: deduplication runs before the trailing slash is dropped.
    ["duplicates that differ only by a trailing slash appear once", [`substituters = ${A}/ ${A}`], [A]],
    ["the default repeated with its trailing slash appears once", [`extra-substituters = https://cache.nixos.org/`], [DEFAULT_SUBSTITUTER]],
    // Nix 2.8 (`nix show-config`): a later `substituters =` replaces the whole value, extras
    // appended before it included; only extras after it are added.
    ["a later `substituters =` also drops earlier extras (as Nix does)", [`extra-substituters = ${B}`, "", `substituters = ${A}`], [A]],
    ["…within one text too", [`extra-substituters = ${B}\nsubstituters = ${A}`], [A]],
  ];
  for (const [what, texts, expected] of cases) {
    it(`${what} -> ${JSON.stringify(expected)}`, () => assert.deepEqual(substitutersFrom(texts), expected));
  }
});

describe("configuredSubstituters: system nix.conf, then the user's, then $NIX_CONFIG", () => {
  let root: string;
  let confDir: string;
  let xdg: string;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "hail-substituters-"));
    confDir = path.join(root, "etc-nix");
    xdg = path.join(root, "config");
    await mkdir(confDir, { recursive: true });
    await mkdir(path.join(xdg, "nix"), { recursive: true });
  });
  after(() => rm(root, { recursive: true, force: true }));

  async function files(system: string | null, user: string | null): Promise<void> {
    await rm(path.join(confDir, "nix.conf"), { force: true });
    await rm(path.join(xdg, "nix", "nix.conf"), { force: true });
    if (system !== null) await writeFile(path.join(confDir, "nix.conf"), system);
    if (user !== null) await writeFile(path.join(xdg, "nix", "nix.conf"), user);
  }

  function env(nixConfig?: string): NodeJS.ProcessEnv {
    return { NIX_CONF_DIR: confDir, XDG_CONFIG_HOME: xdg, HOME: root, ...(nixConfig === undefined ? {} : { NIX_CONFIG: nixConfig }) };
  }

  it("no files, no NIX_CONFIG: cache.nixos.org", async () => {
    await files(null, null);
    assert.deepEqual(await configuredSubstituters(env()), [DEFAULT_SUBSTITUTER]);
  });

  it("the system file alone", async () => {
    await files(`substituters = ${A}\n`, null);
    assert.deepEqual(await configuredSubstituters(env()), [A]);
  });

  it("the user's file comes after the system's", async () => {
    await files(`substituters = ${A}\n`, `substituters = ${B}\n`);
    assert.deepEqual(await configuredSubstituters(env()), [B]);
  });

  it("extras from the system file, the user's file and NIX_CONFIG add up in that order", async () => {
    await files(`substituters = ${A}\n`, `extra-substituters = ${B}\n`);
    assert.deepEqual(await configuredSubstituters(env(`extra-substituters = ${C}`)), [A, B, C]);
  });

  it("NIX_CONFIG comes last: its substituters = replaces the files'", async () => {
    await files(`substituters = ${A}\n`, `substituters = ${B}\n`);
    assert.deepEqual(await configuredSubstituters(env(`substituters = ${C}`)), [C]);
  });

  it("HOME/.config is the user's directory when XDG_CONFIG_HOME is unset", async () => {
    await files(null, null);
    await mkdir(path.join(root, ".config", "nix"), { recursive: true });
    await writeFile(path.join(root, ".config", "nix", "nix.conf"), `substituters = ${B}\n`);
    try {
      assert.deepEqual(await configuredSubstituters({ NIX_CONF_DIR: confDir, HOME: root }), [B]);
    } finally {
      await rm(path.join(root, ".config"), { recursive: true, force: true });
    }
  });

  it("an unreadable nix.conf (a directory) counts as empty", async () => {
    await files(null, null);
    await mkdir(path.join(confDir, "nix.conf"));
    try {
      assert.deepEqual(await configuredSubstituters(env(`extra-substituters = ${C}`)), [DEFAULT_SUBSTITUTER, C]);
    } finally {
      await rm(path.join(confDir, "nix.conf"), { recursive: true, force: true });
    }
  });
});
