// The HTTP layer's tests once more, with hail's own Headers, Request and Response in place of
// Node's, as the bundle has them (src/build/bundle.mjs maps those globals to
// src/hydra/web-classes.ts). The first import swaps the globals before ky is loaded; the test
// files imported after it register their tests in this process. The tests against real
// servers are here, those with nock (which refuses real connections for the whole process)
// in web-classes-nock.test.ts.
import "./with-web-classes.js";
import "./http-fetch.test.js";
import "./client-limits.test.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HailHeaders, HailRequest, HailResponse } from "../../src/hydra/web-classes.js";

describe("hail's own Headers, Request and Response", () => {
  it("are the ones in use here", () => {
    // (nock's interceptors wrap whatever classes they find, ours here: hence instanceof)
    assert.ok(new Headers() instanceof HailHeaders);
    assert.ok(new Request("http://127.0.0.1/") instanceof HailRequest);
    assert.ok(new Response() instanceof HailResponse);
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
