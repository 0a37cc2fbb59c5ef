import assert from "node:assert/strict";
import { statfs } from "node:fs/promises";
import os from "node:os";
import { describe, it } from "node:test";
import { InsufficientSpace, checkSpace, dryRunCommand, freeBytes, parseDryRun } from "../../src/nix/disk.js";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const S = "/nix/store/fzjyrn6d59z24spgsr4q0g6arx6a7hcz-myapp-2";

describe("dryRunCommand", () => {
  it(`-> nix-store --realise --dry-run ${S}`, () => {
    assert.deepEqual(dryRunCommand(S), { file: "nix-store", args: ["--realise", "--dry-run", S] });
  });
});

describe("parseDryRun (nix-store --realise --dry-run output)", () => {
  const cases: Array<[string, string, { download: number; unpacked: number }]> = [
    [
      "several paths to fetch",
      [
        "these 3 paths will be fetched (1.25 MiB download, 4.50 MiB unpacked):",
        "  /nix/store/0yzzvrc6iicc2myi0j6v81mfqh8l226r-myapp-1",
        "  /nix/store/1liffx83v100cwzx7dq6ybdxj604p86q-openssl-3.0.7",
        "  /nix/store/2b3q6hl2rqzb9pn2f6wz6m6rbpxq6v7s-glibc-2.35-224",
      ].join("\n"),
      { download: 1.25 * MiB, unpacked: 4.5 * MiB },
    ],
    [
      "one small path (Nix 2.8's singular wording, sizes below 0.01 MiB)",
      "this path will be fetched (0.00 MiB download, 0.00 MiB unpacked):\n  /nix/store/fzjyrn6d59z24spgsr4q0g6arx6a7hcz-myapp-2",
      { download: 0, unpacked: 0 },
    ],
    [
      "fractions of a MiB round up to whole bytes",
      "this path will be fetched (0.01 MiB download, 0.03 MiB unpacked):\n  /nix/store/fzjyrn6d59z24spgsr4q0g6arx6a7hcz-myapp-2",
      { download: Math.ceil(0.01 * MiB), unpacked: Math.ceil(0.03 * MiB) },
    ],
    [
      "a big closure",
      "these 412 paths will be fetched (1234.56 MiB download, 5678.90 MiB unpacked):\n  /nix/store/…",
      { download: Math.ceil(1234.56 * MiB), unpacked: Math.ceil(5678.9 * MiB) },
    ],
    [
      "derivations to build and paths to fetch",
      [
        "these 2 derivations will be built:",
        "  /nix/store/4rpvhwg3a2rw9bmy144w7g68jbh5ck26-myapp-1.drv",
        "  /nix/store/nww4hfjfcv6awrbalsw20vjlg530zwby-myapp-2.drv",
        "these 5 paths will be fetched (10.00 MiB download, 40.00 MiB unpacked):",
        "  /nix/store/0yzzvrc6iicc2myi0j6v81mfqh8l226r-bash-5.1-p16",
      ].join("\n"),
      { download: 10 * MiB, unpacked: 40 * MiB },
    ],
    [
      "a path no cache has and nothing can build",
      "don't know how to build these paths:\n  /nix/store/00000000000000000000000000000000-nope",
      { download: 0, unpacked: 0 },
    ],
    [
      "unknown paths next to fetchable ones",
      [
        "don't know how to build these paths:",
        "  /nix/store/00000000000000000000000000000000-nope",
        "these 2 paths will be fetched (0.50 MiB download, 2.00 MiB unpacked):",
        "  /nix/store/fzjyrn6d59z24spgsr4q0g6arx6a7hcz-myapp-2",
      ].join("\n"),
      { download: 0.5 * MiB, unpacked: 2 * MiB },
    ],
    ["everything is already here: Nix prints nothing", "", { download: 0, unpacked: 0 }],
    [
      "warnings around the summary",
      "warning: ignoring untrusted substituter 'http://cache.example'\nthese 2 paths will be fetched (3.00 MiB download, 9.00 MiB unpacked):\n  /nix/store/…\n",
      { download: 3 * MiB, unpacked: 9 * MiB },
    ],
  ];
  for (const [what, output, expected] of cases) {
    it(what, () => assert.deepEqual(parseDryRun(output), expected));
  }
});

describe("checkSpace (--min-free)", () => {
  const fits: Array<[string, number, number, number]> = [
    ["plenty of room", 80 * GiB, 100 * MiB, GiB],
    ["exactly min-free left afterwards", 2 * GiB, GiB, GiB],
    ["nothing to fetch, free exactly min-free", GiB, 0, GiB],
    ["--min-free 0 and a closure that just fits", GiB, GiB, 0],
  ];
  for (const [what, free, needed, minFree] of fits) {
    it(`passes: ${what}`, () => assert.doesNotThrow(() => checkSpace(free, needed, minFree, "/nix/store")));
  }

  const refuses: Array<[string, number, number, number]> = [
    ["one byte short of min-free afterwards", 2 * GiB, GiB + 1, GiB],
    ["less free than min-free before fetching anything", GiB - 1, 0, GiB],
    ["closure larger than the disk", GiB, 2 * GiB, 0],
    ["a huge --min-free", 80 * GiB, 0, 100000 * 1024 ** 4],
  ];
  for (const [what, free, needed, minFree] of refuses) {
    it(`refuses: ${what}`, () => {
      assert.throws(() => checkSpace(free, needed, minFree, "/nix/store"), InsufficientSpace);
    });
  }

  it("the refusal is exit 1 of kind nix, and tells the operator what, where and what to do", () => {
    let caught: unknown;
    try {
      checkSpace(1.5 * GiB, 700 * MiB, GiB, "/srv/nix/store");
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof InsufficientSpace, "throws InsufficientSpace");
    assert.equal(caught.exitCode, 1);
    assert.equal(caught.kind, "nix");
    const m = caught.message;
    assert.match(m, /not enough disk space/);
    assert.ok(m.includes("/srv/nix/store"), `names the store dir: ${m}`);
    assert.ok(m.includes("1.5 GiB"), `says how much is free: ${m}`);
    assert.ok(m.includes("700.0 MiB"), `says what the closure needs: ${m}`);
    assert.ok(m.includes("--min-free") && m.includes("1.0 GiB"), `names --min-free and its value: ${m}`);
    assert.match(m, /nix-collect-garbage|lower --min-free/, "names a fix");
  });
});

describe("freeBytes", () => {
  it("is the space available to unprivileged users on the directory's filesystem", async () => {
    const dir = os.tmpdir();
    const free = await freeBytes(dir);
    const stats = await statfs(dir);
    assert.ok(Number.isInteger(free) && free > 0, `free = ${free}`);
    assert.ok(free <= stats.blocks * stats.bsize, "never more than the filesystem's size");
  });

  it("a missing directory is an error, not zero", async () => {
    await assert.rejects(freeBytes("/nonexistent/hail-test-dir"), { code: "ENOENT" });
  });
});
