import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { basicAuthVariants, REDACTED, redactWith, secretVariants } from "../src/secrets.js";
import { escapeControls, printableMessage } from "../src/log.js";

const ordered = (variants: string[]) => [...new Set(variants)].sort((a, b) => b.length - a.length);

describe("redaction finds a secret in every encoding a server may echo it in", () => {
  const passwords = ['p"w\\x%41 é€😀/+&<>', "simple-password", 'a"b', "a\\b", "100%", "ünïcödé"];
  for (const password of passwords) {
    const variants = ordered(basicAuthVariants("deployer", password));
    const echoes: Array<[string, string]> = [
      ["raw", password],
      ["JSON-escaped", JSON.stringify(password).slice(1, -1)],
      ["JSON inside JSON (an echoed login body in a JSON error)", JSON.stringify(JSON.stringify({ username: "deployer", password }))],
      ["ASCII-only JSON", JSON.stringify(password).slice(1, -1).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)],
      ["URL-encoded", encodeURIComponent(password)],
      ["form-encoded", new URLSearchParams({ password }).toString()],
      ["base64 of user:password (the Basic token)", `Authorization: Basic ${Buffer.from(`deployer:${password}`).toString("base64")}`],
      ["JSON as Go writes it", JSON.stringify(password).slice(1, -1).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)],
      ["HTML-escaped", password.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")],
    ];
    for (const [encoding, echo] of echoes) {
      it(`${JSON.stringify(password)} ${encoding}`, () => {
        const text = `you sent: ${echo} -- end`;
        const out = redactWith(variants, text);
        assert.ok(out.includes(REDACTED), out);
        for (const v of [password, JSON.stringify(password).slice(1, -1), encodeURIComponent(password), Buffer.from(`deployer:${password}`).toString("base64")]) {
          assert.ok(!out.includes(v), `${JSON.stringify(v)} left in ${out}`);
        }
      });
    }
  }

  it("an empty secret redacts nothing", () => assert.deepEqual(secretVariants(""), []));
});

describe("escapeControls and printableMessage", () => {
  const cases: Array<[string, string]> = [
    ["a\nb", "a\\nb"],
    ["a\r\nb", "a\\r\\nb"],
    ["\u001b[31mred", "\\u001b[31mred"],
    ["x\u2028y\u009bz\u202ew", "x\\u2028y\\u009bz\\u202ew"],
    ["plain text, \"quotes\" and ünïcödé", "plain text, \"quotes\" and ünïcödé"],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => assert.equal(escapeControls(input), expected));
  }

  it("printableMessage keeps lines but indents the continuation, so none passes for a line of its own", () => {
    assert.equal(printableMessage("nix failed:\nerror: x\u001b[0m"), "nix failed:\n  error: x\\u001b[0m");
  });
});
