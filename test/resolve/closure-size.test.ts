import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { closureSizes } from "../../src/resolve/closure-size.js";

const CACHE = "http://cache.test";
const BROKEN = "b".repeat(32);
const HASH = {
  app: "0yzzvrc6iicc2myi0j6v81mfqh8l226r",
  lib: "9krlzvny65gdc8s7kpb6lkx8cd02c25b",
  data: "fzjyrn6d59z24spgsr4q0g6arx6a7hcz",
};

interface Entry { name: string; fileSize: number | null; narSize: number; refs: string[] }

function narinfo(storeDir: string, e: Entry): string {
  return [
    `StorePath: ${storeDir}/${e.name}`,
    `URL: nar/${e.name}.nar.xz`,
    "Compression: xz",
    ...(e.fileSize === null ? [] : [`FileSize: ${e.fileSize}`]),
    "NarHash: sha256:1liffx83v100cwzx7dq6ybdxj604p86qzxiwnfpvazqvja1k63zh",
    `NarSize: ${e.narSize}`,
    `References: ${e.refs.join(" ")}`,
    "",
  ].join("\n");
}

// app -> lib, data; lib -> data; each refers to itself as store paths often do.
const APP: Entry = { name: `${HASH.app}-myapp-2`, fileSize: 1_000, narSize: 4_000, refs: [`${HASH.app}-myapp-2`, `${HASH.lib}-libfoo-1.0`, `${HASH.data}-data`] };
const LIB: Entry = { name: `${HASH.lib}-libfoo-1.0`, fileSize: 20_000, narSize: 80_000, refs: [`${HASH.lib}-libfoo-1.0`, `${HASH.data}-data`] };
const DATA: Entry = { name: `${HASH.data}-data`, fileSize: 300, narSize: 700, refs: [] };

/** A fake cache: URL -> narinfo text (null is a 404); records every URL asked for. */
function fakeCache(storeDir: string, entries: Entry[], cache = CACHE) {
  const texts = new Map(entries.map((e) => [`${cache}/${e.name.slice(0, 32)}.narinfo`, narinfo(storeDir, e)]));
  const asked: string[] = [];
  const timeouts: number[] = [];
  return {
    asked,
    timeouts,
    fetchText: async (url: string, timeoutMs: number) => {
      asked.push(url);
      timeouts.push(timeoutMs);
      return texts.get(url) ?? null;
    },
  };
}

describe("closureSizes", () => {
  let storeDir: string;

  before(async () => {
    storeDir = await mkdtemp(path.join(os.tmpdir(), "hail-store-"));
  });
  after(() => rm(storeDir, { recursive: true, force: true }));

  async function makeLocal(...entries: Entry[]): Promise<void> {
    for (const e of entries) await writeFile(path.join(storeDir, e.name), "");
  }
  async function clearLocal(): Promise<void> {
    await rm(storeDir, { recursive: true, force: true });
    await mkdir(storeDir);
  }

  it("walks a 3-path closure: NarSize over all of it, FileSize/NarSize over what is not local", async () => {
    await clearLocal();
    await makeLocal(LIB);
    const cache = fakeCache(storeDir, [APP, LIB, DATA]);
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [CACHE], storeDir, timeoutMs: 1234, fetchText: cache.fetchText });
    assert.deepEqual(sizes, {
      known: true,
      paths: 3,
      closureSize: 4_000 + 80_000 + 700,
      missingPaths: 2,
      downloadSize: 1_000 + 300,
      unpackedSize: 4_000 + 700,
    });
    assert.deepEqual([...cache.asked].sort(), [APP, LIB, DATA].map((e) => `${CACHE}/${e.name.slice(0, 32)}.narinfo`).sort(), "each narinfo asked for once");
    assert.ok(cache.timeouts.every((t) => t === 1234), "the per-request timeout is passed on");
  });

  it("everything local: nothing to download, the closure size stays", async () => {
    await clearLocal();
    await makeLocal(APP, LIB, DATA);
    const cache = fakeCache(storeDir, [APP, LIB, DATA]);
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [CACHE], storeDir, timeoutMs: 1000, fetchText: cache.fetchText });
    assert.deepEqual(sizes, { known: true, paths: 3, closureSize: 84_700, missingPaths: 0, downloadSize: 0, unpackedSize: 0 });
  });

  it("asks the `exists` it is given which paths this machine has, not the file system", async () => {
    await clearLocal();
    const cache = fakeCache(storeDir, [APP, LIB, DATA]);
    const asked: string[] = [];
    const exists = async (p: string) => {
      asked.push(p);
      return p.endsWith(DATA.name);
    };
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [CACHE], storeDir, timeoutMs: 1000, fetchText: cache.fetchText, exists });
    assert.deepEqual(sizes, { known: true, paths: 3, closureSize: 84_700, missingPaths: 2, downloadSize: 21_000, unpackedSize: 84_000 });
    assert.deepEqual(asked.sort(), [APP, LIB, DATA].map((e) => `${storeDir}/${e.name}`).sort());
  });

  it("nothing local: everything is downloaded", async () => {
    await clearLocal();
    const cache = fakeCache(storeDir, [APP, LIB, DATA]);
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [CACHE], storeDir, timeoutMs: 1000, fetchText: cache.fetchText });
    assert.deepEqual(sizes, { known: true, paths: 3, closureSize: 84_700, missingPaths: 3, downloadSize: 21_300, unpackedSize: 84_700 });
  });

  it("a narinfo without FileSize counts its NarSize as download", async () => {
    await clearLocal();
    const cache = fakeCache(storeDir, [{ ...DATA, fileSize: null }]);
    const sizes = await closureSizes(`${storeDir}/${DATA.name}`, { caches: [CACHE], storeDir, timeoutMs: 1000, fetchText: cache.fetchText });
    assert.deepEqual(sizes, { known: true, paths: 1, closureSize: 700, missingPaths: 1, downloadSize: 700, unpackedSize: 700 });
  });

  it("asks the caches in order and takes the first that has the path", async () => {
    await clearLocal();
    const first = fakeCache(storeDir, [DATA], "http://first.test");
    const second = fakeCache(storeDir, [APP, LIB, DATA], "http://second.test");
    const asked: string[] = [];
    const fetchText = async (url: string, t: number) => {
      asked.push(url);
      return url.startsWith("http://first.test/") ? first.fetchText(url, t) : second.fetchText(url, t);
    };
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: ["http://first.test", "http://second.test"], storeDir, timeoutMs: 1000, fetchText });
    assert.equal(sizes.known, true);
    assert.equal(sizes.known && sizes.closureSize, 84_700);
    assert.deepEqual(asked.slice(0, 2), [`http://first.test/${HASH.app}.narinfo`, `http://second.test/${HASH.app}.narinfo`]);
    assert.ok(!asked.includes(`http://second.test/${HASH.data}.narinfo`), "the first cache answered for data");
  });

  it("a path of the closure in no cache -> known: false, naming the path", async () => {
    await clearLocal();
    const cache = fakeCache(storeDir, [APP, DATA]); // lib is missing
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [CACHE], storeDir, timeoutMs: 1000, fetchText: cache.fetchText });
    assert.equal(sizes.known, false);
    assert.ok(!sizes.known && sizes.reason.includes(`${storeDir}/${LIB.name}`), JSON.stringify(sizes));
    assert.ok(!sizes.known && sizes.reason.includes(CACHE), "names the caches asked");
  });

  it("the top path in no cache -> known: false", async () => {
    await clearLocal();
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [CACHE], storeDir, timeoutMs: 1000, fetchText: async () => null });
    assert.equal(sizes.known, false);
  });

  it("a cache answering garbage counts as not having the path", async () => {
    await clearLocal();
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [CACHE], storeDir, timeoutMs: 1000, fetchText: async () => "<html>oops</html>" });
    assert.equal(sizes.known, false);
  });

  it("a fetch that throws (no network) -> known: false with the reason, never an exception", async () => {
    await clearLocal();
    const fetchText = async (): Promise<string | null> => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:9");
    };
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [CACHE], storeDir, timeoutMs: 1000, fetchText });
    assert.equal(sizes.known, false);
    assert.ok(!sizes.known && /ECONNREFUSED/.test(sizes.reason), JSON.stringify(sizes));
  });

  it("a fetch that throws half-way through the closure -> known: false", async () => {
    await clearLocal();
    const cache = fakeCache(storeDir, [APP, LIB, DATA]);
    const fetchText = async (url: string, t: number) => {
      if (url.includes(HASH.lib)) throw new Error("socket hang up");
      return cache.fetchText(url, t);
    };
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [CACHE], storeDir, timeoutMs: 1000, fetchText });
    assert.equal(sizes.known, false);
  });

  it("no caches configured -> known: false, and nothing is fetched", async () => {
    let calls = 0;
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, {
      caches: [],
      storeDir,
      timeoutMs: 1000,
      fetchText: async () => {
        calls++;
        return null;
      },
    });
    assert.equal(sizes.known, false);
    assert.ok(!sizes.known && /no binary cache/.test(sizes.reason));
    assert.equal(calls, 0);
  });
});

describe("closureSizes with its own fetch (file:// and http:// caches)", () => {
  let root: string;
  let storeDir: string;
  let cacheDir: string;
  let server: http.Server;
  let url: string;
  const requests: string[] = [];

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "hail-cache-"));
    storeDir = path.join(root, "store");
    cacheDir = path.join(root, "cache");
    await mkdir(storeDir);
    await mkdir(cacheDir);
    for (const e of [APP, LIB, DATA]) await writeFile(path.join(cacheDir, `${e.name.slice(0, 32)}.narinfo`), narinfo(storeDir, e));
    server = http.createServer((req, res) => {
      requests.push(req.url ?? "");
      if (req.url === `/${HASH.app}.narinfo`) {
        res.writeHead(200, { "Content-Type": "text/x-nix-narinfo" }).end(narinfo(storeDir, DATA).replace(`${HASH.data}-data`, APP.name).replace(/^References: .*$/m, "References: "));
      } else if (req.url === `/${BROKEN}.narinfo`) {
        res.writeHead(500).end("internal error");
      } else {
        res.writeHead(404).end("404");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(root, { recursive: true, force: true });
  });

  it("reads narinfo files from a file:// cache", async () => {
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [`file://${cacheDir}`], storeDir, timeoutMs: 5000 });
    assert.deepEqual(sizes, { known: true, paths: 3, closureSize: 84_700, missingPaths: 3, downloadSize: 21_300, unpackedSize: 84_700 });
  });

  it("a file:// cache without the path counts as not having it", async () => {
    const sizes = await closureSizes(`${storeDir}/${HASH.lib.replace(/^9/, "a")}-other`, { caches: [`file://${cacheDir}`], storeDir, timeoutMs: 5000 });
    assert.equal(sizes.known, false);
  });

  it("reads a narinfo over HTTP", async () => {
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [url], storeDir, timeoutMs: 5000 });
    assert.deepEqual(sizes, { known: true, paths: 1, closureSize: 700, missingPaths: 1, downloadSize: 300, unpackedSize: 700 });
  });

  it("HTTP 404 is 'not in this cache': the next cache is asked", async () => {
    const sizes = await closureSizes(`${storeDir}/${LIB.name}`, { caches: [url, `file://${cacheDir}`], storeDir, timeoutMs: 5000 });
    assert.equal(sizes.known, true);
    assert.ok(requests.includes(`/${HASH.lib}.narinfo`));
  });

  it("HTTP 500 -> known: false naming the status", async () => {
    const sizes = await closureSizes(`${storeDir}/${BROKEN}-broken`, { caches: [url, `file://${cacheDir}`], storeDir, timeoutMs: 5000 });
    assert.equal(sizes.known, false);
    assert.ok(!sizes.known && sizes.reason.includes("HTTP 500"), JSON.stringify(sizes));
  });

  it("a closed port -> known: false", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sizes = await closureSizes(`${storeDir}/${APP.name}`, { caches: [`http://127.0.0.1:${port}`], storeDir, timeoutMs: 5000 });
    assert.equal(sizes.known, false);
    assert.ok(!sizes.known && /cannot read the binary cache/.test(sizes.reason), JSON.stringify(sizes));
  });
});
