import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkStorePath, DEFAULT_STORE_DIR, isPlainStorePath, storeDirFromEnv } from "../../src/resolve/store-path.js";
import { InvalidResponse } from "../../src/errors.js";
import { HASH } from "./builds.js";

const STORE = "/nix/store";
const h = HASH.a;

describe("isPlainStorePath", () => {
  const good = [
    `${STORE}/${h}-app-server-1.0`,
    `${STORE}/${h}-x`,
    `${STORE}/${HASH.b}-release_gate`,
    `${STORE}/${h}-name+with=all_allowed-chars.1`,
    `${STORE}/${h}-a..b`,
    // Nix's longest name: 211 characters.
    `${STORE}/${h}-${"n".repeat(211)}`,
  ];
  for (const path of good) {
    it(`accepts ${path}`, () => assert.equal(isPlainStorePath(path, STORE), true));
  }

  const refused: Array<[string, string]> = [
    ["store dir parent", `${STORE}/../etc`],
    ["dot-dot after the name", `${STORE}/${h}-a/../b`],
    ["semicolon", `${STORE}/${h}-a;rm`],
    ["space", `${STORE}/${h}-a b`],
    ["tab", `${STORE}/${h}-a\tb`],
    ["newline inside", `${STORE}/${h}-a\nb`],
    ["trailing newline", `${STORE}/${h}-a\n`],
    ["dollar", `${STORE}/${h}-a$HOME`],
    ["backtick", `${STORE}/${h}-a\`id\``],
    ["pipe", `${STORE}/${h}-a|b`],
    ["ampersand", `${STORE}/${h}-a&b`],
    ["question mark", `${STORE}/${h}-a?`],
    ["asterisk", `${STORE}/${h}-a*`],
    ["leading dot", `${STORE}/${h}-.hidden`],
    ["name '..'", `${STORE}/${h}-..`],
    ["empty name", `${STORE}/${h}-`],
    ["31-char hash", `${STORE}/${h.slice(1)}-x`],
    ["33-char hash", `${STORE}/${h}a-x`],
    ["hash with e", `${STORE}/e${h.slice(1)}-x`],
    ["hash with o", `${STORE}/o${h.slice(1)}-x`],
    ["hash with u", `${STORE}/u${h.slice(1)}-x`],
    ["hash with t", `${STORE}/t${h.slice(1)}-x`],
    ["upper-case hash", `${STORE}/${h.toUpperCase()}-x`],
    ["outside the store", `/tmp/${h}-x`],
    ["store dir prefix trick", `/nix/storeX/${h}-x`],
    ["sub-path", `${STORE}/${h}-x/bin`],
    ["trailing slash", `${STORE}/${h}-x/`],
    ["relative", `nix/store/${h}-x`],
    ["the store dir itself", STORE],
    ["empty", ""],
    ["name longer than Nix allows (212 characters)", `${STORE}/${h}-${"n".repeat(212)}`],
    // realising a derivation builds it on the host, outside the cache's signature check
    ["a derivation", `${STORE}/${h}-app-1.0.drv`],
    ["a derivation named only .drv", `${STORE}/${h}-.drv`],
    ["a derivation with a short name", `${STORE}/${h}-x.drv`],
  ];
  for (const [what, path] of refused) {
    it(`refuses ${what}: ${JSON.stringify(path)}`, () => assert.equal(isPlainStorePath(path, STORE), false));
  }

  it("accepts names that merely contain .drv", () => {
    assert.equal(isPlainStorePath(`${STORE}/${h}-x.drv-tools`, STORE), true);
    assert.equal(isPlainStorePath(`${STORE}/${h}-x.drvx`, STORE), true);
  });

  it("uses the store dir it is given", () => {
    const custom = "/tmp/hail-test.store";
    assert.equal(isPlainStorePath(`${custom}/${h}-x`, custom), true);
    assert.equal(isPlainStorePath(`${STORE}/${h}-x`, custom), false);
  });

  it("treats regex characters in the store dir literally", () => {
    // "." must not match any character: /tmp/hailXstore is not /tmp/hail.store
    assert.equal(isPlainStorePath(`/tmp/hailXstore/${h}-x`, "/tmp/hail.store"), false);
  });
});

describe("checkStorePath", () => {
  const url = "https://hydra.example/build/281735/constituents";

  it("returns a plain path unchanged", () => {
    const path = `${STORE}/${h}-app-server-1.0`;
    assert.equal(checkStorePath(path, STORE, url), path);
  });

  it("refuses anything else with InvalidResponse (65) naming the URL and the path", () => {
    const path = `${STORE}/${h}-x;reboot`;
    assert.throws(
      () => checkStorePath(path, STORE, url),
      (err: unknown) =>
        err instanceof InvalidResponse &&
        err.exitCode === 65 &&
        err.kind === "invalid_response" &&
        err.url === url &&
        err.message.includes(url) &&
        err.message.includes(JSON.stringify(path)) &&
        err.message.includes(STORE),
    );
  });
});

describe("checkStorePath of a derivation", () => {
  it("refuses it with 65, saying it is a build recipe that would be built here", () => {
    const url = "https://hydra.example/build/281735/constituents";
    const drv = `${STORE}/${h}-app-1.0.drv`;
    assert.throws(
      () => checkStorePath(drv, STORE, url),
      (err: unknown) =>
        err instanceof InvalidResponse &&
        err.exitCode === 65 &&
        err.message.includes(JSON.stringify(drv)) &&
        err.message.includes("is a derivation (.drv), a build recipe rather than a build output") &&
        err.message.includes("would build it on this host"),
    );
  });
});

describe("storeDirFromEnv", () => {
  const cases: Array<[string, NodeJS.ProcessEnv, string]> = [
    ["unset", {}, DEFAULT_STORE_DIR],
    ["empty", { NIX_STORE_DIR: "" }, DEFAULT_STORE_DIR],
    ["custom", { NIX_STORE_DIR: "/tmp/store" }, "/tmp/store"],
    ["trailing slashes dropped", { NIX_STORE_DIR: "/tmp/store//" }, "/tmp/store"],
  ];
  for (const [what, env, expected] of cases) {
    it(`${what} -> ${expected}`, () => assert.equal(storeDirFromEnv(env), expected));
  }

  it("defaults to /nix/store", () => assert.equal(DEFAULT_STORE_DIR, "/nix/store"));
});
