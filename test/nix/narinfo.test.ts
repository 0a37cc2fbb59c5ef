import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashPart, parseNarinfo } from "../../src/nix/narinfo.js";

// As `nix copy --to file://…` (Nix 2.8) wrote it for a lab app, with a second reference.
const NARINFO = `StorePath: /nix/store/0yzzvrc6iicc2myi0j6v81mfqh8l226r-myapp-1
URL: nar/06ixnpq5rf03v9a9ps925mhds5ad1dd735p4jkxp91qmlx1f8bgr.nar.xz
Compression: xz
FileHash: sha256:06ixnpq5rf03v9a9ps925mhds5ad1dd735p4jkxp91qmlx1f8bgr
FileSize: 372
NarHash: sha256:1liffx83v100cwzx7dq6ybdxj604p86qzxiwnfpvazqvja1k63zh
NarSize: 896
References: 0yzzvrc6iicc2myi0j6v81mfqh8l226r-myapp-1 9krlzvny65gdc8s7kpb6lkx8cd02c25b-glibc-2.35-224
Deriver: 4rpvhwg3a2rw9bmy144w7g68jbh5ck26-myapp-1.drv
Sig: hail-lab-c7af53f0-1:g6Kcm8p13Aj9nzhF19fPJgVk/QxDqeyns1JUTdFGxrvYY7aXwAQQoIHpV2X7XOptoBeRSw2dCIPSZpFPhigGAQ==
`;

function without(field: string, text = NARINFO): string {
  return text
    .split("\n")
    .filter((l) => !l.startsWith(`${field}:`))
    .join("\n");
}

describe("parseNarinfo", () => {
  it("reads StorePath, FileSize, NarSize and References of a real narinfo", () => {
    assert.deepEqual(parseNarinfo(NARINFO), {
      storePath: "/nix/store/0yzzvrc6iicc2myi0j6v81mfqh8l226r-myapp-1",
      fileSize: 372,
      narSize: 896,
      references: ["0yzzvrc6iicc2myi0j6v81mfqh8l226r-myapp-1", "9krlzvny65gdc8s7kpb6lkx8cd02c25b-glibc-2.35-224"],
    });
  });

  it("a value containing a colon (Sig, FileHash) does not confuse the key", () => {
    assert.equal(parseNarinfo(NARINFO)?.narSize, 896);
    assert.equal(parseNarinfo(`Sig: a:b\n${NARINFO}`)?.storePath, "/nix/store/0yzzvrc6iicc2myi0j6v81mfqh8l226r-myapp-1");
  });

  it("CRLF line ends are tolerated", () => {
    const info = parseNarinfo(NARINFO.replace(/\n/g, "\r\n"));
    assert.equal(info?.narSize, 896);
    assert.equal(info?.fileSize, 372);
    assert.deepEqual(info?.references.length, 2);
  });

  const nulls: Array<[string, string]> = [
    ["missing NarSize", without("NarSize")],
    ["missing StorePath", without("StorePath")],
    ["NarSize not a number", NARINFO.replace("NarSize: 896", "NarSize: lots")],
    ["an HTML error page", "<html><body><h1>404 Not Found</h1></body></html>"],
    ["empty", ""],
  ];
  for (const [what, text] of nulls) {
    it(`${what} -> null`, () => assert.equal(parseNarinfo(text), null));
  }

  it("missing FileSize (an uncompressed cache) -> fileSize null, the rest still read", () => {
    const info = parseNarinfo(without("FileSize"));
    assert.equal(info?.fileSize, null);
    assert.equal(info?.narSize, 896);
  });

  it("an unreadable FileSize -> fileSize null", () => {
    assert.equal(parseNarinfo(NARINFO.replace("FileSize: 372", "FileSize: ?"))?.fileSize, null);
  });

  it("no references (References: empty or absent) -> []", () => {
    assert.deepEqual(parseNarinfo(NARINFO.replace(/^References: .*$/m, "References: "))?.references, []);
    assert.deepEqual(parseNarinfo(without("References"))?.references, []);
  });
});

describe("hashPart", () => {
  const cases: Array<[string, string]> = [
    ["/nix/store/0yzzvrc6iicc2myi0j6v81mfqh8l226r-myapp-1", "0yzzvrc6iicc2myi0j6v81mfqh8l226r"],
    ["/nix/store/9krlzvny65gdc8s7kpb6lkx8cd02c25b-glibc-2.35-224", "9krlzvny65gdc8s7kpb6lkx8cd02c25b"],
    ["/srv/other-store/fzjyrn6d59z24spgsr4q0g6arx6a7hcz-app", "fzjyrn6d59z24spgsr4q0g6arx6a7hcz"],
    ["fzjyrn6d59z24spgsr4q0g6arx6a7hcz-app", "fzjyrn6d59z24spgsr4q0g6arx6a7hcz"],
  ];
  for (const [path, hash] of cases) {
    it(`${path} -> ${hash}`, () => assert.equal(hashPart(path), hash));
  }

  it("names the narinfo of every reference the same way a cache does", () => {
    const info = parseNarinfo(NARINFO);
    assert.deepEqual(info?.references.map(hashPart), ["0yzzvrc6iicc2myi0j6v81mfqh8l226r", "9krlzvny65gdc8s7kpb6lkx8cd02c25b"]);
  });
});
