// --metrics-listen HOST:PORT, :PORT or PORT (the host defaults to 127.0.0.1).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../../src/errors.js";
import { parseListenAddress } from "../../src/metrics/listen-address.js";

describe("parseListenAddress", () => {
  const good: [text: string, host: string, port: number][] = [
    ["9100", "127.0.0.1", 9100],
    [":9100", "127.0.0.1", 9100],
    ["0.0.0.0:9100", "0.0.0.0", 9100],
    ["127.0.0.1:0", "127.0.0.1", 0],
    ["[::1]:9100", "::1", 9100],
    ["[::]:9100", "::", 9100],
    ["localhost:9851", "localhost", 9851],
    ["monitor.example.org:65535", "monitor.example.org", 65535],
    [" 9100 ", "127.0.0.1", 9100],
  ];
  for (const [text, host, port] of good) {
    it(`${JSON.stringify(text)} -> ${host} port ${port}`, () => {
      assert.deepEqual(parseListenAddress(text), { host, port });
    });
  }

  const bad = ["", " ", "abc", "9100x", "x9100", "65536", "99999", "-1", ":", "host:", "host:port", "::1:9100", "[::1]", "[::1]9100", "[]:9100", "1.2.3.4:-1", "1.2.3.4:91 00", "http://127.0.0.1:9100"];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)} with a usage error (64) naming the flag`, () => {
      assert.throws(
        () => parseListenAddress(text),
        (err: unknown) =>
          err instanceof UsageError &&
          err.exitCode === 64 &&
          err.kind === "usage" &&
          err.message.includes("--metrics-listen") &&
          err.message.includes("HOST:PORT"),
      );
    });
  }
});
