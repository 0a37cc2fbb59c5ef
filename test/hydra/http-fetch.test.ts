// The Fetch-compatible function hail hands ky, against real local servers: HTTP, and HTTPS
// with a CA made here (trusted through NODE_EXTRA_CA_CERTS, as an operator would).
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import zlib from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
// hail's fetch before ky: its first import puts hail's Headers, Request and Response in place, as in the bundle
import { httpFetch } from "../../src/hydra/http-fetch.js";
import ky from "ky";
import { USER_AGENT } from "../../src/hydra/user-agent.js";
import { closedPort } from "./helpers.js";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function listen(server: http.Server | https.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return `${server instanceof https.Server ? "https" : "http"}://127.0.0.1:${port}`;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe("httpFetch over HTTP", () => {
  const routes = new Map<string, Handler>();
  const server = http.createServer((req, res) => {
    const handler = routes.get(new URL(req.url ?? "/", "http://x").pathname);
    if (handler) return handler(req, res);
    res.writeHead(404).end("no route");
  });
  let base = "";
  before(async () => {
    base = await listen(server);
  });
  after(() => close(server));

  it('redirect: "manual" returns the 3xx as it came, Location untouched', async () => {
    routes.set("/moved", (_req, res) => res.writeHead(302, { location: "/build/7" }).end());
    const r = await httpFetch(`${base}/moved`, { redirect: "manual" });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get("location"), "/build/7");
  });

  it("follows redirects by default, and not across origins with credentials", async () => {
    routes.set("/there", (req, res) => res.writeHead(200).end(`auth=${req.headers.authorization ?? "none"}`));
    routes.set("/hop", (_req, res) => res.writeHead(301, { location: "/there" }).end());
    const r = await httpFetch(`${base}/hop`, { headers: { authorization: "Basic eDp5" } });
    assert.equal(await r.text(), "auth=Basic eDp5");
    // Another port is another origin.
    const other = http.createServer((req, res) => res.writeHead(200).end(`auth=${req.headers.authorization ?? "none"}`));
    const otherBase = await listen(other);
    try {
      routes.set("/away", (_req, res) => res.writeHead(302, { location: `${otherBase}/there` }).end());
      const away = await httpFetch(`${base}/away`, { headers: { authorization: "Basic eDp5" } });
      assert.equal(await away.text(), "auth=none");
    } finally {
      await close(other);
    }
  });

  it("keeps each Set-Cookie apart, and sends Basic auth, cookies and a POST body", async () => {
    routes.set("/login", (req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        res.writeHead(200, { "set-cookie": ["hydra_session=abc; Path=/; HttpOnly", "other=1"], "content-type": "text/plain" });
        res.end(`${req.method} ${req.headers.authorization} ${req.headers.cookie} ${req.headers["content-length"]} ${body}`);
      });
    });
    const r = await httpFetch(`${base}/login`, {
      method: "POST",
      headers: { authorization: "Basic dTpw", cookie: "a=b", "content-type": "application/json" },
      body: '{"username":"u"}',
    });
    assert.deepEqual(r.headers.getSetCookie(), ["hydra_session=abc; Path=/; HttpOnly", "other=1"]);
    assert.equal(await r.text(), 'POST Basic dTpw a=b 16 {"username":"u"}');
  });

  it("carries ky's requests (a Request with headers and a body)", async () => {
    routes.set("/echo", (req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ accept: req.headers.accept, body })));
    });
    const api = ky.create({ fetch: httpFetch, headers: { accept: "application/json" }, retry: 0, throwHttpErrors: false });
    assert.deepEqual(await api.post(`${base}/echo`, { body: "x=1" }).json(), { accept: "application/json", body: "x=1" });
  });

  it("asks for compressed answers and decodes gzip, deflate and br", async () => {
    const encoders = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, br: zlib.brotliCompressSync };
    for (const [encoding, encode] of Object.entries(encoders)) {
      routes.set("/packed", (req, res) => {
        res.writeHead(200, { "content-encoding": encoding, "x-asked": String(req.headers["accept-encoding"]) });
        res.end(encode(Buffer.from('{"id": 1}')));
      });
      const r = await httpFetch(`${base}/packed`);
      assert.equal(r.headers.get("x-asked"), "gzip, deflate, br");
      assert.equal(await r.text(), '{"id": 1}', encoding);
    }
  });

  it("names hail in the User-Agent unless the caller gives its own (the cache checks call it directly)", async () => {
    routes.set("/agent", (req, res) => res.writeHead(200).end(String(req.headers["user-agent"])));
    assert.equal(await (await httpFetch(`${base}/agent`)).text(), USER_AGENT);
    assert.equal(await (await httpFetch(`${base}/agent`, { headers: { "User-Agent": "other/1" } })).text(), "other/1");
  });

  it("a null-body status has a null body", async () => {
    routes.set("/empty", (_req, res) => res.writeHead(204).end());
    const r = await httpFetch(`${base}/empty`);
    assert.equal(r.status, 204);
    assert.equal(r.body, null);
  });

  it("an abort before the answer rejects with the signal's reason", async () => {
    routes.set("/silent", () => undefined);
    const ac = new AbortController();
    const pending = httpFetch(`${base}/silent`, { signal: ac.signal });
    ac.abort(new DOMException("too slow", "TimeoutError"));
    await assert.rejects(pending, { name: "TimeoutError", message: "too slow" });
  });

  it("an abort while the body is read errors the body with the signal's reason", async () => {
    const closed = new Promise<void>((resolve) =>
      routes.set("/half", (_req, res) => {
        res.writeHead(200, { "content-length": "100" });
        res.write("{");
        res.on("close", () => resolve());
      }),
    );
    const ac = new AbortController();
    const r = await httpFetch(`${base}/half`, { signal: ac.signal });
    const reading = r.text();
    ac.abort(new DOMException("too slow", "TimeoutError"));
    await assert.rejects(reading, { name: "TimeoutError" });
    await closed;
  });

  it("cancelling the body closes the connection: nothing more is read", async () => {
    let sent = 0;
    const closed = new Promise<boolean>((resolve) =>
      routes.set("/big", (_req, res) => {
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && sent < 256 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        res.on("close", () => resolve(!res.writableFinished));
        pump();
      }),
    );
    const r = await httpFetch(`${base}/big`);
    const reader = r.body?.getReader();
    assert.ok(reader);
    await reader.read();
    await reader.cancel();
    assert.equal(await closed, true, "the server saw the connection closed before the end");
    assert.ok(sent < 64 * 1024 * 1024, `sent ${sent} bytes of 256 MiB`);
  });

  it("a refused connection is a TypeError whose cause carries the code, as with fetch", async () => {
    const port = await closedPort();
    await assert.rejects(httpFetch(`http://127.0.0.1:${port}/`), (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.equal((err.cause as NodeJS.ErrnoException).code, "ECONNREFUSED");
      return true;
    });
  });
});

describe("httpFetch over HTTPS with a CA made for the test", () => {
  let dir = "";
  let server: https.Server;
  let base = "";
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "hail-https-"));
    await makeCertificates(dir);
    server = https.createServer(
      { key: await readFile(path.join(dir, "server.key")), cert: await readFile(path.join(dir, "server.pem")) },
      (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'),
    );
    base = await listen(server);
  });
  after(async () => {
    await close(server);
    await rm(dir, { recursive: true, force: true });
  });

  // NODE_EXTRA_CA_CERTS is read when node starts, so each case runs in its own process.
  const HTTP_FETCH = fileURLToPath(new URL("../../src/hydra/http-fetch.ts", import.meta.url));
  const script = [
    `const { httpFetch } = await import(${JSON.stringify(HTTP_FETCH)});`,
    "try { const r = await httpFetch(process.argv[1]); console.log(r.status, await r.text()); }",
    "catch (err) { console.log('failed', err.cause?.code ?? err.message); }",
  ].join("\n");
  const fetchIn = async (env: NodeJS.ProcessEnv) => {
    const { NODE_EXTRA_CA_CERTS: _unset, NODE_TEST_CONTEXT: _test, ...rest } = process.env;
    const r = await execa(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, `${base}/`], { env: { ...rest, ...env }, extendEnv: false });
    return r.stdout.trim();
  };

  it("trusts a CA given by NODE_EXTRA_CA_CERTS", async () => {
    assert.equal(await fetchIn({ NODE_EXTRA_CA_CERTS: path.join(dir, "ca.pem") }), '200 {"ok":true}');
  });

  it("refuses the certificate without it", async () => {
    assert.match(await fetchIn({}), /^failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
  });
});

/** ca.pem, and server.pem/server.key for 127.0.0.1 signed by it. */
async function makeCertificates(dir: string): Promise<void> {
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execa("openssl", args, { cwd: dir });
  await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", at("ca.key"), "-out", at("ca.pem"), "-days", "2", "-subj", "/CN=hail test CA");
  await openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", at("server.key"), "-out", at("server.csr"), "-subj", "/CN=127.0.0.1");
  await writeFile(at("san.ext"), "subjectAltName=IP:127.0.0.1\n");
  await openssl("x509", "-req", "-in", at("server.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca.key"), "-CAcreateserial",
    "-out", at("server.pem"), "-days", "2", "-extfile", at("san.ext"));
}
