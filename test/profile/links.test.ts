import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EnvironmentError, UsageError } from "../../src/errors.js";
import { currentGeneration, listGenerations, parseGeneration, readProfileTarget } from "../../src/profile/links.js";
import { DEFAULT_PROFILES_DIR, MAX_PROFILE_NAME_BYTES, profileRefOf } from "../../src/profile/path.js";

describe("profileRefOf", () => {
  const DIR = "/nix/var/nix/profiles";
  const good: Array<[string, string]> = [
    ["myapp", `${DIR}/myapp`],
    ["hail/myapp", `${DIR}/hail/myapp`],
    ["a/b/c", `${DIR}/a/b/c`],
    ["my-app.v2", `${DIR}/my-app.v2`],
    ["/home/ops/.local/state/nix/profiles/app", "/home/ops/.local/state/nix/profiles/app"],
    ["/srv//profiles/./app", "/srv/profiles/app"],
    ["/srv/profiles/app/", "/srv/profiles/app"],
  ];
  for (const [name, path] of good) {
    it(`${JSON.stringify(name)} -> ${path}`, () => {
      const profile = profileRefOf(name, DIR);
      assert.deepEqual({ name: profile.name, path: profile.path }, { name, path });
    });
  }

  // The state and lock files are named for the absolute path, so a name and its path share
  // them; the legacy key (relative to --profiles-dir) is where an older hail kept the state.
  const keys: Array<[string, string, string, string]> = [
    ["myapp", DIR, "nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp", "myapp"],
    [`${DIR}/myapp`, DIR, "nix%2Fvar%2Fnix%2Fprofiles%2Fmyapp", "myapp"],
    ["hail/myapp", "/srv/profiles", "srv%2Fprofiles%2Fhail%2Fmyapp", "hail%2Fmyapp"],
    ["/home/ops/100%/app", DIR, "home%2Fops%2F100%25%2Fapp", "%2Fhome%2Fops%2F100%25%2Fapp"],
  ];
  for (const [name, dir, stateKey, legacyStateKey] of keys) {
    it(`${JSON.stringify(name)} under ${dir} keeps its state under ${stateKey}`, () => {
      const profile = profileRefOf(name, dir);
      assert.deepEqual({ stateKey: profile.stateKey, legacyStateKey: profile.legacyStateKey }, { stateKey, legacyStateKey });
    });
  }

  it("takes names under the profiles dir it is given", () => {
    assert.equal(profileRefOf("hail/app", "/tmp/profiles").path, "/tmp/profiles/hail/app");
  });

  it("defaults to /nix/var/nix/profiles", () => assert.equal(DEFAULT_PROFILES_DIR, "/nix/var/nix/profiles"));

  it("takes a last part of 220 bytes, flat, nested or absolute, and a 230-character name nested", () => {
    assert.equal(MAX_PROFILE_NAME_BYTES, 220);
    for (const name of ["a".repeat(220), `x/${"a".repeat(220)}`, `/srv/${"a".repeat(220)}`, `${"s".repeat(100)}/${"t".repeat(129)}`]) {
      assert.ok(profileRefOf(name, DIR).path.endsWith(`/${name.split("/").pop() ?? ""}`));
    }
  });

  for (const name of ["a".repeat(221), `x/${"a".repeat(230)}`, `/srv/${"é".repeat(111)}`]) {
    it(`refuses a last part over 220 bytes (${Buffer.byteLength(name.split("/").pop() ?? "")} bytes) with 73, before nix-env fails on it`, () => {
      assert.throws(
        () => profileRefOf(name, DIR),
        (err: unknown) => err instanceof EnvironmentError && err.exitCode === 73 && /ENAMETOOLONG/.test(err.message) && /at most 220 bytes, or nest the name/.test(err.message),
      );
    });
  }

  const bad = ["", "a//b", "../x", "a/../x", "a/./b", ".", "..", "a/", "/abs/../x", "/.."];
  for (const name of bad) {
    it(`refuses ${JSON.stringify(name)} with a usage error`, () => {
      assert.throws(
        () => profileRefOf(name, DIR),
        (err: unknown) => err instanceof UsageError && err.exitCode === 64 && err.message.includes("--profile"),
      );
    });
  }
});

describe("parseGeneration", () => {
  const cases: Array<[string, string, number | null]> = [
    ["myapp", "myapp-1-link", 1],
    ["myapp", "myapp-42-link", 42],
    ["myapp", "/nix/var/nix/profiles/myapp-7-link", 7],
    ["my-app", "my-app-3-link", 3],
    ["myapp", "myapp", null],
    ["myapp", "myapp-link", null],
    ["myapp", "myapp--link", null],
    ["myapp", "myapp-x-link", null],
    ["myapp", "myapp-1", null],
    ["myapp", "myapp-1-link.tmp", null],
    ["myapp", "other-1-link", null],
    // the links of a sibling profile named "myapp-2" are not generations of "myapp"
    ["myapp", "myapp-2-5-link", null],
    ["myapp", "myapp--1-link", null],
    ["myapp", "myapp-1.5-link", null],
  ];
  for (const [profile, link, expected] of cases) {
    it(`${profile}, ${link} -> ${expected}`, () => assert.equal(parseGeneration(profile, link), expected));
  }
});

describe("profile links on disk", () => {
  let dir: string;
  let storeDir: string;
  let profiles: string;
  let newPath: string;
  let oldPath: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hail-profile-test-"));
    storeDir = join(dir, "store");
    profiles = join(dir, "profiles");
    oldPath = join(storeDir, "0123456789abcdfghijklmnpqrsvwxyz-app-1.0");
    newPath = join(storeDir, "l9r346p3d25vs4g5v37f3r3f28js97kb-app-1.1");
    await mkdir(join(oldPath, "bin"), { recursive: true });
    await mkdir(join(newPath, "bin"), { recursive: true });
    await mkdir(profiles);
    // The layout nix-env makes: P -> P-N-link (relative), P-N-link -> store path (absolute).
    await symlink(oldPath, join(profiles, "app-1-link"));
    await symlink(newPath, join(profiles, "app-2-link"));
    await symlink(oldPath, join(profiles, "app-10-link"));
    await symlink("app-2-link", join(profiles, "app"));
    // a neighbour profile whose links must not count
    await symlink(newPath, join(profiles, "other-3-link"));
    await symlink("other-3-link", join(profiles, "other"));
    // a profile pointing at an absolute link path
    await symlink(oldPath, join(profiles, "abs-10-link"));
    await symlink(join(profiles, "abs-10-link"), join(profiles, "abs"));
    // a profile link that names no generation of its own
    await symlink("app-2-link", join(profiles, "foreign"));
    // a dangling profile and a plain directory
    await symlink("gone-5-link", join(profiles, "gone"));
    await mkdir(join(profiles, "plain"));
    await writeFile(join(profiles, "plain", "marker"), "");
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe("readProfileTarget", () => {
    it("follows P -> P-N-link -> store path", async () => {
      assert.equal(await readProfileTarget(join(profiles, "app"), storeDir), newPath);
    });

    it("follows an absolute link", async () => {
      assert.equal(await readProfileTarget(join(profiles, "abs"), storeDir), oldPath);
    });

    it("reads a generation link itself", async () => {
      assert.equal(await readProfileTarget(join(profiles, "app-1-link"), storeDir), oldPath);
    });

    it("stops at the store dir even when the store path is itself a symlink", async () => {
      const linkInStore = join(storeDir, "zyxwvsrqpnmlkjihgfdcba9876543210-alias");
      await symlink(newPath, linkInStore);
      await symlink(linkInStore, join(profiles, "alias-1-link"));
      await symlink("alias-1-link", join(profiles, "alias"));
      assert.equal(await readProfileTarget(join(profiles, "alias"), storeDir), linkInStore);
    });

    it("null for a missing profile", async () => {
      assert.equal(await readProfileTarget(join(profiles, "missing"), storeDir), null);
    });

    it("null for a missing profiles dir", async () => {
      assert.equal(await readProfileTarget(join(dir, "nowhere", "app"), storeDir), null);
    });

    it("null for a profile whose generation link is gone", async () => {
      assert.equal(await readProfileTarget(join(profiles, "gone"), storeDir), null);
    });

    it("a path that is not a symlink is its own target", async () => {
      assert.equal(await readProfileTarget(join(profiles, "plain"), storeDir), join(profiles, "plain"));
    });
  });

  describe("currentGeneration", () => {
    const cases: Array<[string, number | null]> = [
      ["app", 2],
      ["abs", 10],
      ["other", 3],
      ["foreign", null],
      ["missing", null],
    ];
    for (const [name, expected] of cases) {
      it(`${name} -> ${expected}`, async () => assert.equal(await currentGeneration(join(profiles, name)), expected));
    }
  });

  describe("listGenerations", () => {
    it("lists the profile's generations numerically, ignoring neighbours", async () => {
      assert.deepEqual(await listGenerations(join(profiles, "app")), [1, 2, 10]);
      assert.deepEqual(await listGenerations(join(profiles, "other")), [3]);
    });

    it("[] for a profile with no links", async () => {
      assert.deepEqual(await listGenerations(join(profiles, "missing")), []);
    });

    it("[] for a missing profiles dir", async () => {
      assert.deepEqual(await listGenerations(join(dir, "nowhere", "app")), []);
    });
  });
});
