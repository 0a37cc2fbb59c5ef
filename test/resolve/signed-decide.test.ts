import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Decision } from "../../src/resolve/decide.js";
import { decideSigned, releaseRecord } from "../../src/resolve/signed-decide.js";
import { ReleaseRejected } from "../../src/errors.js";
import type { ReleaseView } from "../../src/release/confirm.js";

const release: ReleaseView = { url: "https://r.example/m.json", build: 100, principal: "alice", fingerprint: "SHA256:abc", expires: null, unsignedBuildId: null };

describe("decideSigned", () => {
  it("refuses as a replay what never-backwards would only stay on (65, kind replay)", () => {
    const stay: Decision = { kind: "stay", cause: "older-than-deployed", offeredId: 100, deployedId: 103, reason: "older" };
    assert.throws(() => decideSigned(stay, release), (err: unknown) => err instanceof ReleaseRejected && err.kind === "replay" && err.exitCode === 65 && /gate build 100, older than gate build 103/.test(err.message));
  });

  it("up to date while a newer gate build is unsigned: waits, naming both builds", () => {
    const d = decideSigned({ kind: "up-to-date" }, { ...release, unsignedBuildId: 103 });
    assert.deepEqual(d, { kind: "unsigned", offeredId: 103, signedId: 100, reason: "waiting for a signed release: gate build 103 is newer than signed build 100" });
  });

  it("leaves every other decision as it is: deploy the signed build even while a newer one waits", () => {
    const decisions: Decision[] = [{ kind: "deploy" }, { kind: "up-to-date" }, { kind: "held", reason: "held" }];
    for (const d of decisions) assert.deepEqual(decideSigned(d, d.kind === "up-to-date" ? release : { ...release, unsignedBuildId: 103 }), d);
  });
});

describe("releaseRecord", () => {
  const at = (h: number) => new Date(Date.UTC(2026, 0, 1, h)).toISOString();

  it("starts waiting when a newer build is first unsigned, and keeps that start while the signed build stays", () => {
    const first = releaseRecord(null, { ...release, unsignedBuildId: 103 }, at(1));
    assert.deepEqual(first.waiting, { gateBuildId: 103, since: at(1) });
    const later = releaseRecord(first, { ...release, unsignedBuildId: 104 }, at(5));
    assert.deepEqual(later.waiting, { gateBuildId: 104, since: at(1) });
  });

  it("stops waiting when nothing newer is unsigned, and starts afresh for a newly signed build", () => {
    const waiting = releaseRecord(null, { ...release, unsignedBuildId: 103 }, at(1));
    assert.equal(releaseRecord(waiting, release, at(2)).waiting, null);
    const next = releaseRecord(waiting, { ...release, build: 103, unsignedBuildId: 104 }, at(3));
    assert.deepEqual(next.waiting, { gateBuildId: 104, since: at(3) });
  });
});
