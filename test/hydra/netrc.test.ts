import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findCredentials, parseNetrc, type NetrcEntry } from "../../src/hydra/netrc.js";

describe("parseNetrc", () => {
  const cases: Array<[string, string, NetrcEntry[]]> = [
    ["one machine per line", "machine hydra.example login deploy password s3cret\n", [
      { machine: "hydra.example", login: "deploy", password: "s3cret" },
    ]],
    ["tokens across lines", "machine hydra.example\n  login deploy\n\tpassword s3cret\n", [
      { machine: "hydra.example", login: "deploy", password: "s3cret" },
    ]],
    ["several entries on one line", "machine a.example login la password pa machine b.example login lb password pb", [
      { machine: "a.example", login: "la", password: "pa" },
      { machine: "b.example", login: "lb", password: "pb" },
    ]],
    ["default entry", "machine a.example login la password pa\ndefault login anon password guest\n", [
      { machine: "a.example", login: "la", password: "pa" },
      { machine: null, login: "anon", password: "guest" },
    ]],
    ["account is skipped", "machine a.example login la account acct password pa", [
      { machine: "a.example", login: "la", password: "pa" },
    ]],
    ["macdef body skipped up to the blank line",
      "machine a.example login la password pa\nmacdef init\ncd /pub\nmachine evil.example login evil password evil\n" +
        "  \nmachine b.example login lb password pb\n", [
      { machine: "a.example", login: "la", password: "pa" },
      { machine: "b.example", login: "lb", password: "pb" },
    ]],
    ["macdef at the end without a blank line", "machine a.example login la password pa\nmacdef init\ncd /pub\n", [
      { machine: "a.example", login: "la", password: "pa" },
    ]],
    ["quoted tokens with spaces and escapes", 'machine a.example login "dev ops" password "p \\"q\\" r"', [
      { machine: "a.example", login: "dev ops", password: 'p "q" r' },
    ]],
    ["comments at token start",
      "# machine old.example login old password old\nmachine a.example # login wrong\n login la password pa#x\n", [
      { machine: "a.example", login: "la", password: "pa#x" },
    ]],
    ["login before any machine is ignored", "login stray password stray machine a.example login la", [
      { machine: "a.example", login: "la" },
    ]],
    ["CRLF line ends", "machine a.example\r\nlogin la\r\npassword pa\r\n", [
      { machine: "a.example", login: "la", password: "pa" },
    ]],
    ["empty file", "", []],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => assert.deepEqual(parseNetrc(text), expected));
  }
});

describe("findCredentials", () => {
  const entries = parseNetrc(`
    machine other.example login lo password po
    machine Hydra.Example login deploy password s3cret
    machine hydra.example login second password never
    machine nologin.example password orphan
    default login anon password guest
  `);
  const cases: Array<[string, { login: string; password: string } | undefined]> = [
    ["hydra.example", { login: "deploy", password: "s3cret" }],
    ["HYDRA.example", { login: "deploy", password: "s3cret" }],
    ["hydra.example:8443", { login: "deploy", password: "s3cret" }],
    ["unknown.example", { login: "anon", password: "guest" }],
    ["nologin.example", undefined],
  ];
  for (const [host, expected] of cases) {
    it(`${host} -> ${expected?.login ?? "none"}`, () => assert.deepEqual(findCredentials(entries, host), expected));
  }

  it("without a default entry an unknown host has no credentials", () => {
    assert.equal(findCredentials(parseNetrc("machine a.example login la password pa"), "b.example"), undefined);
  });

  it("a login without a password gives an empty password, as curl does", () => {
    assert.deepEqual(findCredentials(parseNetrc("machine a.example login la"), "a.example"), {
      login: "la",
      password: "",
    });
  });

  it("matches an IPv6 host given with brackets and port", () => {
    const v6 = parseNetrc("machine [::1] login l6 password p6");
    assert.deepEqual(findCredentials(v6, "[::1]:3000"), { login: "l6", password: "p6" });
  });
});
