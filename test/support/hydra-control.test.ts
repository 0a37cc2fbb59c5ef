// The stand-in Hydra's control hook (npm run hydra): off unless a handler is set, POST only,
// and the action named in the path reaches the handler.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { HydraTestServer } from "./hydra-server.js";

describe("HydraTestServer control", () => {
  let hydra: HydraTestServer;
  beforeEach(async () => (hydra = await HydraTestServer.start()));
  afterEach(() => hydra.close());

  it("is off by default: /_control/... is a path Hydra does not know", async () => {
    const res = await fetch(`${hydra.url}/_control/publish`, { method: "POST", headers: { Accept: "application/json" } });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: "Page not found." });
  });

  it("hands POST /_control/ACTION to the handler and sends its answer; other methods get 405", async () => {
    const asked: string[] = [];
    hydra.control = async (action) => {
      asked.push(action);
      return { status: 200, body: `did ${action}\n` };
    };
    const res = await fetch(`${hydra.url}/_control/publish-broken`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "did publish-broken\n");
    assert.equal((await fetch(`${hydra.url}/_control/publish`)).status, 405);
    assert.deepEqual(asked, ["publish-broken"]);
  });
});
