/** Shared pieces for the Hydra client tests: Hydra-shaped bodies, a client factory, interceptors. */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import assert from "node:assert/strict";
import nock from "nock";
import { HailError } from "../../src/errors.js";
import { HydraClient, type HydraClientOptions } from "../../src/hydra/client.js";
import { parseJobUrl, type JobUrl } from "../../src/hydra/job-url.js";

export const HYDRA = "https://hydra.example";
export const GATE: JobUrl = parseJobUrl(`${HYDRA}/job/acme/production/release_gate`);
export const GATE_PATH = "/job/acme/production/release_gate";
export const JSON_HEADERS = { "content-type": "application/json" };

/** A Hydra-shaped body from fixtures/hydra/hydra-shaped (see its README), as text. */
export function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/hydra/hydra-shaped/${name}`, import.meta.url), "utf8");
}

export interface TestClient {
  client: HydraClient;
  /** Every URL the client requested, one per attempt. */
  requests: string[];
}

/** A client with fast retries that records each attempt. */
export function makeClient(overrides: Partial<HydraClientOptions> = {}): TestClient {
  const requests: string[] = [];
  const client = new HydraClient({
    baseUrl: HYDRA,
    timeoutMs: 2_000,
    retryDelayMs: 1,
    maxRetryAfterMs: 20,
    onRequest: ({ url }) => requests.push(url),
    ...overrides,
  });
  return { client, requests };
}

/** A `sleep` for the client that records the waits it asks for and returns at once. */
export function recordSleeps(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

/** Hydra's answer to `latest-finished`: a 302 to the build, absolute URL as Hydra builds it. */
export function interceptLatestFinished(
  scope: nock.Scope,
  { buildId, host = HYDRA, jobPath = GATE_PATH }: { buildId: number; host?: string; jobPath?: string },
): nock.Scope {
  return scope
    .get(`${jobPath}/latest-finished`)
    .matchHeader("accept", "application/json")
    .reply(302, "", { location: `${host}/build/${buildId}` });
}

/** `/build/ID` answered with a Hydra-shaped body. */
export function interceptBuild(scope: nock.Scope, id: number, fixtureName = "gate-build.json"): nock.Scope {
  return scope
    .get(`/build/${id}`)
    .matchHeader("accept", "application/json")
    .reply(200, fixture(fixtureName), JSON_HEADERS);
}

/** A localhost port with nothing listening: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/**
 * A validator for assert.rejects/throws: the error is a `kind` with that exit code and its message
 * holds every pattern. (Every assert.ok carries a message: Node 20 can hang building one.)
 */
export function failsWith(
  kind: new (...args: never[]) => HailError,
  exitCode: number,
  ...patterns: Array<RegExp | string>
): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${String(err)}`);
    assert.equal(err.exitCode, exitCode);
    for (const pattern of patterns) {
      if (typeof pattern === "string") assert.ok(err.message.includes(pattern), `${err.message} lacks ${pattern}`);
      else assert.match(err.message, pattern);
    }
    return true;
  };
}

/** The error `promise` rejects with; it must reject, with an Error. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => assert.fail("expected a rejection"),
    (reason: unknown) => reason,
  );
  assert.ok(err instanceof Error, `rejected with ${String(err)}`);
  return err;
}
