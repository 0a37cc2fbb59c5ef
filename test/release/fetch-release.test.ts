import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HydraUnavailable, ReleaseRejected } from "../../src/errors.js";
import { HydraNotFound } from "../../src/hydra/not-found.js";
import { fetchRelease, signatureUrlOf, type ReleaseFiles } from "../../src/release/fetch-release.js";

const URL = "https://releases.example.org/myapp.json";

/** Files by URL; a missing one answers as a 404 does, an Error value is thrown as it is. */
function files(served: Record<string, string | Uint8Array | Error>): ReleaseFiles & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    getFile(url) {
      asked.push(url);
      const found = served[url];
      if (found === undefined) return Promise.reject(new HydraNotFound(url, "", `nothing at ${url}`));
      return found instanceof Error ? Promise.reject(found) : Promise.resolve(typeof found === "string" ? new TextEncoder().encode(found) : found);
    },
  };
}

describe("fetchRelease", () => {
  it("fetches the manifest and URL.sig, the manifest as its UTF-8 bytes", async () => {
    const got = await fetchRelease(files({ [URL]: '{"job":"é"}\n', [`${URL}.sig`]: "SIG" }), URL);
    assert.deepEqual(Buffer.from(got.manifestBytes), Buffer.from('{"job":"é"}\n', "utf8"));
    assert.equal(got.signatureText, "SIG");
    assert.equal(signatureUrlOf(URL), `${URL}.sig`);
  });

  it("keeps the manifest's exact bytes: a byte-order mark or bytes that are not UTF-8 reach the verification as served", async () => {
    const served = new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0xff, 0x7d]);
    const got = await fetchRelease(files({ [URL]: served, [`${URL}.sig`]: "SIG" }), URL);
    assert.deepEqual([...got.manifestBytes], [...served]);
  });

  it("a missing .sig is refused (signature-missing, 65)", async () => {
    const err = await fetchRelease(files({ [URL]: "{}" }), URL).catch((e: unknown) => e);
    assert.ok(err instanceof ReleaseRejected);
    assert.equal(err.kind, "signature-missing");
    assert.equal(err.exitCode, 65);
  });

  it("a missing manifest is 69, not a refusal: nothing was signed or refused", async () => {
    const err = await fetchRelease(files({ [`${URL}.sig`]: "SIG" }), URL).catch((e: unknown) => e);
    assert.ok(err instanceof HydraUnavailable);
    assert.equal(err.exitCode, 69);
    assert.match(err.message, /no release manifest there \(HTTP 404\)/);
  });

  it("an unreachable server is passed on as it is (69)", async () => {
    const down = new HydraUnavailable(URL, "connection refused");
    const err = await fetchRelease(files({ [URL]: down, [`${URL}.sig`]: down }), URL).catch((e: unknown) => e);
    assert.equal(err, down);
  });
});
