import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allForms, cookieCredentials, hideUserinfo, MIN_FREE_LENGTH, passwordCredentials, REDACTED, redactText, secretVariants } from "../src/secrets.js";
import { escapeControls, printableMessage } from "../src/log.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const USER = "deployer";

describe("a long secret is redacted from server text in every encoding a server may echo it in", () => {
  const passwords = ['p"w\\x%41 é€😀/+&<>', "simple-password", 'a"b-and-more', "a\\b\\c\\d\\e", "100%-of-it", "ünïcödé-long"];
  for (const password of passwords) {
    const variants = allForms(passwordCredentials(USER, password));
    const echoes: Array<[string, string]> = [
      ["raw", password],
      ["JSON-escaped", JSON.stringify(password).slice(1, -1)],
      ["JSON inside JSON (an echoed login body in a JSON error)", JSON.stringify(JSON.stringify({ username: USER, password }))],
      ["ASCII-only JSON", JSON.stringify(password).slice(1, -1).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)],
      ["URL-encoded", encodeURIComponent(password)],
      ["form-encoded", new URLSearchParams({ password }).toString()],
      ["base64 of user:password (the Basic token)", `token ${b64(`${USER}:${password}`)}`],
      ["JSON as Go writes it", JSON.stringify(password).slice(1, -1).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)],
      ["HTML-escaped", password.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")],
    ];
    for (const [encoding, echo] of echoes) {
      it(`${JSON.stringify(password)} ${encoding}`, () => {
        const out = redactText(variants, `you sent: ${echo} -- end`);
        assert.ok(out.includes(REDACTED), out);
        for (const v of [password, JSON.stringify(password).slice(1, -1), encodeURIComponent(password), b64(`${USER}:${password}`)]) {
          assert.ok(!out.includes(v), `${JSON.stringify(v)} left in ${out}`);
        }
      });
    }
  }

  it("an empty secret redacts nothing", () => {
    assert.deepEqual(secretVariants(""), []);
    assert.deepEqual(cookieCredentials("hydra_session", ""), { sent: [], alone: [] });
  });
});

describe("a short secret (main, 127, p) is redacted where it stands as a credential, and nowhere else", () => {
  for (const password of ["main", "127", "p"]) {
    assert.ok(password.length < MIN_FREE_LENGTH);
    const variants = allForms(passwordCredentials(USER, password));
    const body = JSON.stringify({ username: USER, password });
    // What a proxy echoes of the request: each must lose the credential, in every encoding.
    const echoes: Array<[string, string, string]> = [
      ["the Authorization header", `Authorization: Basic ${b64(`${USER}:${password}`)}`, b64(`${USER}:${password}`)],
      ["the headers as JSON", JSON.stringify({ host: "h", authorization: `Basic ${b64(`${USER}:${password}`)}` }), b64(`${USER}:${password}`)],
      ["the Basic credential decoded", `user ${USER}:${password} is not allowed`, `${USER}:${password}`],
      ["the Basic credential URL-encoded", `query ${encodeURIComponent(`${USER}:${password}`)}`, encodeURIComponent(`${USER}:${password}`)],
      ["the login body", `cannot parse ${body}`, `"password":"${password}"`],
      ["the login body as JSON in JSON", JSON.stringify({ error: `cannot parse ${body}` }), `\\"password\\":\\"${password}\\"`],
      ["the login body URL-encoded", `body=${encodeURIComponent(body)}`, encodeURIComponent(`"password":"${password}"`)],
      ["the login body in base64", `body ${b64(body)}`, b64(body)],
      ["the login body as Python prints it", `{'username': '${USER}', 'password': '${password}'}`, `'password': '${password}'`],
      ["a form", `username=${USER}&password=${password}`, `password=${password}`],
    ];
    for (const [what, echo, credential] of echoes) {
      it(`${password}: ${what}`, () => {
        assert.ok(echo.includes(credential));
        const out = redactText(variants, echo);
        assert.ok(!out.includes(credential), `${JSON.stringify(credential)} left in ${out}`);
        assert.ok(out.includes(REDACTED), out);
      });
    }
    // Hydra quoting the job hail asked for, and its own words: "[redacted]" there would tell the secret.
    const ordinary = [
      "Jobset ‘myproject:main’ doesn't exist.",
      "POST requests should come from ‘http://127.0.0.1:3000/’.",
      "GET /job/myproject/main/release_gate/latest-finished: Bad username or password.",
      "This page requires you to sign in.",
    ];
    for (const text of ordinary) {
      it(`${password}: ${JSON.stringify(text)} stays as it is`, () => assert.equal(redactText(variants, text), text));
    }
  }

  it("a short cookie is redacted as the Cookie header sends it, not where it is a word", () => {
    const variants = allForms(cookieCredentials("hydra_session", "ab12"));
    assert.equal(redactText(variants, "cookie hydra_session=ab12 refused"), `cookie ${REDACTED} refused`);
    assert.equal(redactText(variants, "build ab12 failed"), "build ab12 failed");
  });
});

describe("credential places are redacted whatever the credential, known or not", () => {
  const cases: Array<[string, string]> = [
    ["Authorization: Basic dXNlcjpzM2NyZXQ=\r\nHost: h", `Authorization: ${REDACTED}\r\nHost: h`],
    ['{"cookie":"hydra_session=0123abcd","host":"h"}', `{"cookie":"${REDACTED}","host":"h"}`],
    ['{\\"Proxy-Authorization\\":\\"Bearer abc\\"}', `{\\"Proxy-Authorization\\":\\"${REDACTED}\\"}`],
    ["Set-Cookie: hydra_session=x; Path=/", `Set-Cookie: ${REDACTED}`],
    ["you sent Basic dXNlcjpzM2NyZXQ= here", `you sent Basic ${REDACTED} here`],
    ["token Bearer eyJhbGciOiJIUzI1NiJ9.e30 here", `token Bearer ${REDACTED} here`],
    ["from https://user:s3cret@cache.example/nix-cache-info", `from https://${REDACTED}@cache.example/nix-cache-info`],
    ['{"url":"https:\\/\\/user:s3cret@cache.example\\/"}', `{"url":"https:\\/\\/${REDACTED}@cache.example\\/"}`],
    // Prose about credentials is not one.
    ["HTTP Basic authentication failed", "HTTP Basic authentication failed"],
    ["Bearer authentication is required", "Bearer authentication is required"],
    ["a cookie is missing; see http://127.0.0.1:3000/login", "a cookie is missing; see http://127.0.0.1:3000/login"],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)}`, () => assert.equal(redactText([], input), expected));
  }

  it("hideUserinfo takes userinfo out of URLs and nothing else", () => {
    assert.equal(hideUserinfo("in none of the caches (https://u:main@cache.example, http://127.0.0.1:8080)"), `in none of the caches (https://${REDACTED}@cache.example, http://127.0.0.1:8080)`);
  });
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
