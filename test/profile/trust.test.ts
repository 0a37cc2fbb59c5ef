import assert from "node:assert/strict";
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checkTrustedDir, runnableStorePath, untrustedBecause } from "../../src/profile/trust.js";
import { EnvironmentError } from "../../src/errors.js";
import { nodeProfileFs } from "../../src/profile/fs.js";
import { FakeFs, PROFILE, STORE, path } from "../deploy/fake-world.js";

const NOBODY = 65534;
const ME = 1000;

describe("untrustedBecause (OpenSSH's rule, with /tmp's exception)", () => {
  const cases: Array<[string, { uid: number; mode: number }, string | null]> = [
    ["root 0755", { uid: 0, mode: 0o40755 }, null],
    ["the running user 0700", { uid: ME, mode: 0o40700 }, null],
    ["root 0775", { uid: 0, mode: 0o40775 }, "it is writable by its group (mode 0775)"],
    ["root 0757", { uid: 0, mode: 0o40757 }, "it is writable by others (mode 0757)"],
    ["root 0777", { uid: 0, mode: 0o40777 }, "it is writable by group and others (mode 0777)"],
    ["root 1777 (/tmp)", { uid: 0, mode: 0o41777 }, null],
    ["root 1775 (/nix/store)", { uid: 0, mode: 0o41775 }, null],
    ["the running user's 1777", { uid: ME, mode: 0o41777 }, "it is writable by group and others (mode 01777)"],
    ["nobody 0755", { uid: NOBODY, mode: 0o40755 }, `it is owned by uid ${NOBODY}, not by root or uid ${ME} (the user hail runs as)`],
    ["nobody 1777", { uid: NOBODY, mode: 0o41777 }, `it is owned by uid ${NOBODY}, not by root or uid ${ME} (the user hail runs as)`],
  ];
  for (const [what, info, expected] of cases) {
    it(`${what} -> ${expected ?? "trusted"}`, () => assert.equal(untrustedBecause(info, ME), expected));
  }
});

/** Refused with exit 73, naming the profile, and with `says` in the message. */
function refusedWith(says: RegExp) {
  return (err: unknown) => err instanceof EnvironmentError && err.exitCode === 73 && err.message.includes("profile ") && says.test(err.message);
}

describe("checkTrustedDir on the real file system (as root)", { skip: process.getuid?.() !== 0 && "needs root to chown" }, () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "hail-trust-test-"));
    const dirs: Array<[string, number, number]> = [
      ["good/profiles", 0, 0o755],
      ["loose", 0, 0o777],
      ["loose/inner", 0, 0o755],
      ["grouped", 0, 0o775],
      ["theirs", NOBODY, 0o755],
      ["sticky", 0, 0o1777],
      ["sticky/mine", 0, 0o755],
      ["sticky/planted", NOBODY, 0o755],
    ];
    for (const [dir, uid, mode] of dirs) {
      await mkdir(join(root, dir), { recursive: true });
      await chown(join(root, dir), uid, 0);
      await chmod(join(root, dir), mode);
    }
    await symlink(join(root, "loose", "inner"), join(root, "good", "to-loose"));
    await symlink("../../good/profiles", join(root, "sticky", "mine", "relative"));
    await symlink("../../loose/inner", join(root, "sticky", "mine", "up-to-loose"));
    await writeFile(join(root, "good", "file"), "");
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const check = (dir: string) => checkTrustedDir(join(root, dir), "/x/app", nodeProfileFs);
  const trusted = ["good/profiles", "sticky/mine", "sticky/mine/relative", "good/profiles/not-yet/nested", "sticky"];
  for (const dir of trusted) it(`trusts ${dir}`, () => check(dir));

  const refused: Array<[string, RegExp]> = [
    ["loose/inner", /loose: it is writable by group and others \(mode 0777\)/],
    ["grouped", /grouped: it is writable by its group \(mode 0775\)/],
    ["theirs", /theirs: it is owned by uid 65534, not by root/],
    ["sticky/planted", /planted: it is owned by uid 65534/],
    // a symlink on the way is followed: its target's directories count
    ["good/to-loose", /loose: it is writable by group and others/],
    ["sticky/mine/up-to-loose", /loose: it is writable by group and others/],
  ];
  for (const [dir, says] of refused) it(`refuses ${dir}`, () => assert.rejects(check(dir), refusedWith(says)));

  it("refuses a path through a file, naming it", () => assert.rejects(check("good/file/x"), refusedWith(/good\/file is not a directory/)));
});

describe("runnableStorePath", () => {
  const V1 = path("v1");
  function fs(): FakeFs {
    const f = new FakeFs();
    f.dirs.add("/profiles");
    f.newGeneration(PROFILE, V1);
    return f;
  }
  const run = (f: FakeFs) => runnableStorePath(PROFILE, STORE, f);

  it("P -> P-N-link -> store path: that store path", async () => assert.equal(await run(fs()), V1));

  it("a link through another trusted directory is followed", async () => {
    const f = fs();
    f.dirs.add("/srv");
    f.links.set("/srv/app", V1);
    f.links.set(PROFILE, "/srv/app");
    assert.equal(await run(f), V1);
  });

  const refused: Array<[string, (f: FakeFs) => void, RegExp]> = [
    ["a planted link to /tmp/evil", (f) => f.links.set(PROFILE, "/tmp/evil"), /it points to \/tmp\/evil, which is not a store path under \/nix\/store/],
    ["a generation link to /tmp/evil", (f) => f.links.set("/profiles/app-1-link", "/tmp/evil"), /points to \/tmp\/evil/],
    ["a store path that is a link out of the store", (f) => f.links.set(V1, "/tmp/evil"), /points to \/tmp\/evil/],
    ["a derivation", (f) => f.links.set("/profiles/app-1-link", `${STORE}/${"0".repeat(32)}-app.drv`), /app\.drv, which is not a store path/],
    ["no profile at all", (f) => f.links.delete(PROFILE), /it does not exist or is not a symlink/],
    ["the profile's directory writable by others", (f) => f.owners.set("/profiles", { uid: 0, mode: 0o757 }), /directory \/profiles: it is writable by others/],
    ["a directory above it owned by someone else", (f) => f.owners.set("/", { uid: NOBODY, mode: 0o755 }), /directory \/: it is owned by uid 65534/],
    [
      "a link on the way in a directory others can write",
      (f) => {
        f.dirs.add("/shared");
        f.owners.set("/shared", { uid: 0, mode: 0o777 });
        f.links.set("/shared/app", V1);
        f.links.set(PROFILE, "/shared/app");
      },
      /directory \/shared: it is writable by group and others/,
    ],
  ];
  for (const [what, change, says] of refused) {
    it(`refuses ${what}`, async () => {
      const f = fs();
      change(f);
      await assert.rejects(run(f), refusedWith(says));
    });
  }
});
