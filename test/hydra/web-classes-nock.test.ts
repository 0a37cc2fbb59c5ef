// The HydraClient tests that use nock, again with hail's own Headers, Request and Response in
// place of Node's, as in the bundle (see web-classes.test.ts).
import "./with-web-classes.js";
import "./client-errors.test.js";
import "./client-headers.test.js";
import "./client-redirects.test.js";
import "./session.test.js";
import assert from "node:assert/strict";
import { it } from "node:test";
import { HailHeaders } from "../../src/hydra/web-classes.js";

it("the client tests above ran with hail's own Headers", () => {
  assert.ok(new Headers() instanceof HailHeaders);
});
