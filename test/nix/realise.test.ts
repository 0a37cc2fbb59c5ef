import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NixCommandFailed } from "../../src/errors.js";
import { isNotSubstitutable, realiseFromCache } from "../../src/nix/realise.js";
import { path, worldWith } from "../deploy/fake-world.js";

const V3 = path("v3");
const REALISE = `nix-store --realise ${V3} --max-jobs 0`;

/** Nix 2.8's own words, as the runner quotes them in NixCommandFailed. */
const OUTPUT_NOT_IN_CACHE = `\`${REALISE}\` failed (exit 1):\ndon't know how to build these paths:\n  ${V3}\nerror: build of '${V3}' failed`;
const DERIVATION_NOT_BUILT = "this derivation will be built:\n  /nix/store/x.drv\nerror: unable to start any build; either increase '--max-jobs' or enable remote builds.";

describe("isNotSubstitutable", () => {
  const cases: Array<[string, string, boolean]> = [
    ["an output no cache has", OUTPUT_NOT_IN_CACHE, true],
    ["a derivation that would have to be built", DERIVATION_NOT_BUILT, true],
    ["a corrupt download", "hash mismatch in downloaded path", false],
    ["a full disk", "error: writing to file: No space left on device", false],
  ];
  for (const [what, message, expected] of cases) it(`${what} -> ${expected}`, () => assert.equal(isNotSubstitutable(message), expected));
});

describe("realiseFromCache", () => {
  it("runs nix-store --realise with local builds forbidden", async () => {
    const world = worldWith();
    await realiseFromCache(world.nix, V3);
    assert.deepEqual(world.nix.calls, [REALISE]);
  });

  it("a path no trusted cache has: NixCommandFailed saying so and what to check, then Nix's words", async () => {
    const world = worldWith();
    world.nix.failNix = () => new NixCommandFailed(OUTPUT_NOT_IN_CACHE);
    await assert.rejects(realiseFromCache(world.nix, V3), (err: unknown) =>
      err instanceof NixCommandFailed &&
      err.message.startsWith(`${V3} is not in the binary cache: no substituter this host trusts has it (with a valid signature), and hail never builds on the host.`) &&
      err.message.includes("substituters, trusted-public-keys") &&
      err.message.endsWith(OUTPUT_NOT_IN_CACHE));
  });

  it("any other failure is thrown as Nix said it", async () => {
    const world = worldWith();
    const failure = new NixCommandFailed("hash mismatch in downloaded path");
    world.nix.failNix = () => failure;
    await assert.rejects(realiseFromCache(world.nix, V3), (err: unknown) => err === failure);
  });
});
