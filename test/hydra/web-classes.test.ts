// hail's own Headers, Request and Response (src/hydra/web-classes.ts): the classes the bundle,
// code run from source and every unit test use, because the HTTP layer's first import
// (src/hydra/web-globals.ts) puts them in place. This file swaps nothing itself: it imports
// hail's client first, as any test of the HTTP layer does, and finds the classes in place.
import { HydraClient } from "../../src/hydra/client.js";
import { httpFetch } from "../../src/hydra/http-fetch.js";
import { parseJobUrl } from "../../src/hydra/job-url.js";
import http from "node:http";
import type { AddressInfo } from "node:net";
import ky from "ky";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HailFormData, HailHeaders, HailRequest, HailResponse } from "../../src/hydra/web-classes.js";

describe("hail's own Headers, Request and Response", () => {
  it("are the globals once hail's HTTP client is imported, with nothing swapped by the test", () => {
    assert.equal(globalThis.Headers, HailHeaders as unknown);
    assert.equal(globalThis.Request, HailRequest as unknown);
    assert.equal(globalThis.Response, HailResponse as unknown);
    assert.equal(globalThis.FormData, HailFormData as unknown);
  });

  it("are what ky builds and what hail's fetch answers with, through HydraClient against a real server", async () => {
    const seen: unknown[] = [];
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ name: "js", project: "p" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const answered = await ky.get(base, { fetch: async (input, init) => {
        seen.push(input);
        const response = await httpFetch(input, init);
        seen.push(response);
        return response;
      }, retry: 0 });
      assert.ok(seen[0] instanceof HailRequest, "ky built one of hail's Requests");
      assert.ok(seen[1] instanceof HailResponse, "hail's fetch answered with one of hail's Responses");
      assert.ok(answered instanceof HailResponse);
      assert.ok(answered.headers instanceof HailHeaders);
      // and the client on top of them works: a job's jobset page is read and schema-checked
      await new HydraClient({ baseUrl: base, timeoutMs: 5_000, retries: 0 }).getJobset(parseJobUrl(`${base}/job/p/js/j`));
    } finally {
      server.close();
    }
  });

  it("Headers: names ignore case, values join, each Set-Cookie stays apart, bad input is refused", () => {
    const h = new HailHeaders({ Accept: "application/json" });
    h.append("set-cookie", "a=1");
    h.append("Set-Cookie", "b=2");
    h.append("x-many", "1");
    h.append("X-Many", "2");
    assert.equal(h.get("ACCEPT"), "application/json");
    assert.equal(h.get("x-many"), "1, 2");
    assert.deepEqual(h.getSetCookie(), ["a=1", "b=2"]);
    assert.deepEqual([...h], [["accept", "application/json"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-many", "1, 2"]]);
    assert.throws(() => h.set("bad name", "x"), TypeError);
    assert.throws(() => h.set("x", "a\r\nb: c"), TypeError);
  });

  it("Request: absolute URL, method, a body read again after a clone, the content type fetch gives text", async () => {
    const r = new HailRequest("http://127.0.0.1:1/a?b=1", { method: "post", body: "hello" });
    assert.equal(r.url, "http://127.0.0.1:1/a?b=1");
    assert.equal(r.method, "POST");
    assert.equal(r.headers.get("content-type"), "text/plain;charset=UTF-8");
    assert.equal(await r.clone().text(), "hello");
    assert.equal(await r.text(), "hello");
    assert.throws(() => new HailRequest("http://127.0.0.1:1/", { body: "x" }), TypeError);
    assert.throws(() => new HailRequest("/relative"), TypeError);
  });

  it("Response: status, ok, a clone reads the same body, a body is read once", async () => {
    const r = new HailResponse("{\"a\":1}", { status: 404, headers: { "content-type": "application/json" } });
    assert.equal(r.ok, false);
    const copy = r.clone();
    assert.deepEqual(await r.json(), { a: 1 });
    assert.equal(await copy.text(), "{\"a\":1}");
    await assert.rejects(r.text(), TypeError);
    assert.equal(new HailResponse(null, { status: 204 }).body, null);
  });
});
