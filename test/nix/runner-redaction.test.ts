// A command's output is outside text: Nix repeats what a binary cache answered (which may echo
// a credential), and an activation prints what it likes. It is redacted where hail reads it,
// in error messages and in logged lines; hail's own words and short ordinary ones are kept.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CacheUnavailable, NixCommandFailed } from "../../src/errors.js";
import { createProcessRunner } from "../../src/nix/runner.js";
import { passwordCredentials, rememberCredentials } from "../../src/secrets.js";
import { rejection } from "../hydra/helpers.js";

const PASSWORD = "s3cret-cache-pass";
const TOKEN = Buffer.from(`deployer:${PASSWORD}`).toString("base64");
rememberCredentials(passwordCredentials("deployer", PASSWORD));
rememberCredentials(passwordCredentials("deployer", "main"));

const sh = (script: string) => ({ file: "sh", args: ["-c", script] });
/** Shell words that print the password and its Basic token while the command line holds neither whole. */
const HALVES = `A=${PASSWORD.slice(0, 8)}; B=${PASSWORD.slice(8)}; PW="$A$B"; TOKEN=$(printf 'deployer:%s' "$PW" | base64)`;

describe("command output enters hail redacted", () => {
  it("a failed nix command: the tail in the message loses the credential, keeps the rest", async () => {
    const err = await rejection(createProcessRunner().captureNix(sh(`${HALVES}; echo "cache said: you sent Basic $TOKEN for /main"; echo "password $PW refused" >&2; exit 1`)));
    assert.ok(err instanceof NixCommandFailed, String(err));
    assert.match(err.message, /cache said: you sent Basic \[redacted\] for \/main/);
    assert.match(err.message, /password \[redacted\] refused/);
    assert.ok(!err.message.includes(TOKEN) && !err.message.includes(PASSWORD), err.message);
  });

  it("a cache outage names the cache without its userinfo", async () => {
    const err = await rejection(createProcessRunner().captureNix(sh(`${HALVES}; echo "warning: unable to download 'https://deployer:$PW@cache.example/abc.narinfo': HTTP error 500"; exit 1`)));
    assert.ok(err instanceof CacheUnavailable, String(err));
    assert.ok(err.message.startsWith("binary cache unavailable: https://[redacted]@cache.example/abc.narinfo: HTTP error 500"), err.message);
    assert.ok(!err.message.includes(PASSWORD), err.message);
  });

  it("an activation's lines are logged redacted; the short secret `main` as a plain word stays", async () => {
    const lines: string[] = [];
    await createProcessRunner().runActivation(sh(`${HALVES}; echo "Authorization: Basic $TOKEN"; echo "switching main on 127.0.0.1"`), "activation", {
      env: {},
      timeoutMs: 60_000,
      onLine: (line) => lines.push(line),
    });
    assert.deepEqual(lines, ["Authorization: [redacted]", "switching main on 127.0.0.1"]);
  });

  it("a failed activation's `hail-services:` line (service profiles) joins the failure, redacted; others fail by exit status alone", async () => {
    const run = (script: string) => rejection(createProcessRunner().runActivation(sh(script), "activation", { env: {}, timeoutMs: 60_000, onLine: () => {} }));
    const named = await run(`${HALVES}; echo "starting"; echo "hail-services: myapp-web.service: not healthy within 30s (token $PW)" >&2; echo "journal line 1" >&2; echo "hail-services: second" >&2; exit 3`);
    assert.match(named.message, /failed \(exit 3\): hail-services: myapp-web\.service: not healthy within 30s \(token \[redacted\]\)$/);
    const plain = await run(`echo "something went wrong"; exit 2`);
    assert.match(plain.message, /failed \(exit 2\)$/);
  });
});
