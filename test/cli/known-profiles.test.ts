import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { UsageError } from "../../src/errors.js";
import { knownProfiles, listNames, refuseUnknownProfile } from "../../src/cli/known-profiles.js";
import { profileRefOf } from "../../src/profile/path.js";
import { emptyState } from "../../src/state/schema.js";
import { stateFiles } from "../../src/profile/key.js";

let root: string;
let profilesDir: string;
let stateDir: string;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), "hail-known-"));
  profilesDir = path.join(root, "profiles");
  stateDir = path.join(root, "state");
  await mkdir(profilesDir);
  await mkdir(stateDir, { mode: 0o700 });
  // a deployed profile: its link and a generation link
  await symlink("myapp-1-link", path.join(profilesDir, "myapp"));
  await symlink("/nix/store/x", path.join(profilesDir, "myapp-1-link"));
  // a profile held before its first deployment: state only
  const held = profileRefOf("held", profilesDir);
  await writeFile(stateFiles(stateDir, held.stateKey).state, JSON.stringify(emptyState("held", held.path)), { mode: 0o600 });
});
after(() => rm(root, { recursive: true, force: true }));

describe("refuseUnknownProfile", () => {
  it("a profile with a link or with state is known", async () => {
    for (const name of ["myapp", "held"]) await refuseUnknownProfile(profileRefOf(name, profilesDir), stateDir, profilesDir, null);
  });

  it("a profile with neither: UsageError naming it, its path, the state dir and the known ones; nothing created", async () => {
    const before = [...(await readdir(profilesDir)), ...(await readdir(stateDir))];
    await assert.rejects(refuseUnknownProfile(profileRefOf("myap", profilesDir), stateDir, profilesDir, "add --new"), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(
        err.message,
        `profile myap is unknown: no profile link ${path.join(profilesDir, "myap")} and no hail state for it in ${stateDir}; profiles hail knows there: held, myapp`,
      );
      assert.equal(err.hint, "add --new", "how to go on anyway is the hint");
      return true;
    });
    assert.deepEqual([...(await readdir(profilesDir)), ...(await readdir(stateDir))], before);
  });

  it("dirs that are not there know no profile, and say so", async () => {
    const nowhere = path.join(root, "nowhere");
    await assert.rejects(refuseUnknownProfile(profileRefOf("a", nowhere), nowhere, nowhere, ""), /hail knows no profile under --profiles-dir \S+nowhere or --state-dir \S+nowhere$/);
  });
});

describe("knownProfiles and listNames", () => {
  it("lists profile links (not generations) and the state files' profiles, sorted, once each", async () => {
    assert.deepEqual(await knownProfiles(profilesDir, stateDir), ["held", "myapp"]);
  });

  it("caps the list", () => {
    const names = Array.from({ length: 13 }, (_, i) => `p${String(i).padStart(2, "0")}`);
    assert.equal(listNames(names), "p00, p01, p02, p03, p04, p05, p06, p07, p08, p09 (and 3 more)");
    assert.equal(listNames(["a", "b"]), "a, b");
  });
});
