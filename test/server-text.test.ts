// serverText: a server's text as a message quotes it. It reads only a window of a large text,
// and what it shows holds no piece of a credential, also where the window or the cut falls
// inside one.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { passwordCredentials, REDACTED, rememberCredentials } from "../src/secrets.js";
import { MAX_SERVER_TEXT, serverText } from "../src/server-text.js";

const PASSWORD = "Q7x9Z3w5K8v2M4n6";
rememberCredentials(passwordCredentials("deployer", PASSWORD));
/** Ten times shorter once redacted: enough echoes of it bring the window's end into view. */
const LONG_PASSWORD = "Q7x9Z3w5K8v2M4n6".repeat(7);
rememberCredentials(passwordCredentials("deployer", LONG_PASSWORD));

/** The text with every "[redacted]" taken out: what is left must hold no character of the password. */
const rest = (text: string) => text.replaceAll(REDACTED, "").replace(/\[r?e?d?a?c?t?e?d?$/, "");
const PASSWORD_CHARS = new RegExp(`[${PASSWORD}]`);

describe("serverText", () => {
  it("redacts, turns control characters into spaces, trims and cuts", () => {
    assert.equal(serverText(`  line one\r\n\u001b[31m${PASSWORD} ok `), `line one [31m${REDACTED} ok`);
    assert.equal(serverText("x".repeat(1000)).length, MAX_SERVER_TEXT);
  });

  it("a 16 MiB text: the start is shown, redacted", () => {
    const out = serverText(`${PASSWORD} is wrong; ${"y".repeat(16 * 1024 * 1024)}`);
    assert.ok(out.startsWith(`${REDACTED} is wrong; yyy`), out);
    assert.equal(out.length, MAX_SERVER_TEXT);
  });

  for (const password of [PASSWORD, LONG_PASSWORD]) {
    for (const copies of [1, 10, 50, 200, 1000]) {
      it(`${copies} echoes of a ${password.length}-character password after any offset: wherever the window cuts one, no piece of it`, () => {
        // Each echo shrinks to "[redacted]", so the window's end can move into the visible part.
        for (let offset = 0; offset < password.length; offset += 1) {
          const out = serverText("-".repeat(offset) + password.repeat(copies) + "z".repeat(5000));
          assert.doesNotMatch(rest(out), PASSWORD_CHARS, out);
        }
      });
    }
  }

  it("a password cut by the 200-character limit shows no half", () => {
    for (let at = 180; at < 200; at += 1) {
      const out = serverText(`${"-".repeat(at)}${PASSWORD}`);
      assert.doesNotMatch(rest(out), PASSWORD_CHARS, out);
    }
  });
});
