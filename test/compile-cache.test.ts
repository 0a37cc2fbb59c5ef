import assert from "node:assert/strict";
import { constants } from "node:fs";
import { describe, it } from "node:test";
import { cacheCommand, cacheDirectory, cacheFileName, fnv1a, programIn, trustedAncestor, trustedOwn } from "../src/compile-cache.js";

describe("which command's cache", () => {
  const cases: Array<[string[], string]> = [
    [["plan", "--gate-job", "http://h/job/p/j/g", "--json"], "plan"],
    [["--config", "/etc/hail.json", "--oneshot"], "run"],
    [["deploy", "--oneshot"], "run"],
    [["run"], "run"],
    [["status", "myapp"], "status"],
    [["hold", "myapp"], "hold"],
    [["release", "myapp"], "release"],
    [["--help"], "help"],
    [["plan", "--help"], "help"],
    [["-V"], "help"],
    [["help", "plan"], "help"],
    [["completion", "zsh"], "completion"],
    [[], "run"],
    [["--profile", "plan", "--oneshot"], "run"],
    [["deplyo", "--oneshot"], "other"],
  ];
  for (const [args, command] of cases) it(`${JSON.stringify(args)} -> ${command}`, () => assert.equal(cacheCommand(args), command));
});

describe("where the cache lives", () => {
  it("systemd's CacheDirectory= first (the first of several)", () => {
    assert.equal(cacheDirectory({ CACHE_DIRECTORY: "/var/cache/hail:/var/cache/other", HOME: "/root" }, 0), "/var/cache/hail");
  });
  it("then $XDG_CACHE_HOME/hail, then ~/.cache/hail", () => {
    assert.equal(cacheDirectory({ XDG_CACHE_HOME: "/home/ops/.xdg", HOME: "/home/ops" }, 1000), "/home/ops/.xdg/hail");
    assert.equal(cacheDirectory({ HOME: "/home/ops" }, 1000), "/home/ops/.cache/hail");
  });
  it("ignores relative paths, as the XDG specification says", () => {
    assert.equal(cacheDirectory({ CACHE_DIRECTORY: "cache", XDG_CACHE_HOME: "xdg", HOME: "/home/ops" }, 1000), "/home/ops/.cache/hail");
    assert.equal(cacheDirectory({ HOME: "home" }, 1000), null);
  });
  it("root with no home (a system service) uses /var/cache/hail; another user none", () => {
    assert.equal(cacheDirectory({}, 0), "/var/cache/hail");
    assert.equal(cacheDirectory({}, 1000), null);
  });
});

describe("the cache file's name", () => {
  const runtime = { version: "v24.21.0", arch: "x64", execArgv: [] as string[] };
  it("FNV-1a gives the published test vectors", () => {
    assert.equal(fnv1a(""), "811c9dc5");
    assert.equal(fnv1a("a"), "e40c292c");
    assert.equal(fnv1a("foobar"), "bf9cf968");
  });
  it("changes with the build, the command, node's version and node's flags", () => {
    const base = cacheFileName("b1", "plan", runtime);
    assert.match(base, /^b1-plan-[0-9a-f]{8}\.v8cache$/);
    const others = [
      cacheFileName("b2", "plan", runtime),
      cacheFileName("b1", "run", runtime),
      cacheFileName("b1", "plan", { ...runtime, version: "v24.22.0" }),
      cacheFileName("b1", "plan", { ...runtime, arch: "arm64" }),
      cacheFileName("b1", "plan", { ...runtime, execArgv: ["--max-semi-space-size=1"] }),
    ];
    assert.equal(new Set([base, ...others]).size, 6, others.join(" "));
  });
});

describe("which cache hail trusts", () => {
  const DIR = constants.S_IFDIR;
  const FILE = constants.S_IFREG;
  it("its own directory and file: the running user's, writable by nobody else", () => {
    assert.equal(trustedOwn({ uid: 0, mode: DIR | 0o700 }, 0, DIR), true);
    assert.equal(trustedOwn({ uid: 1000, mode: DIR | 0o755 }, 1000, DIR), true);
    assert.equal(trustedOwn({ uid: 0, mode: FILE | 0o600 }, 0, FILE), true);
    assert.equal(trustedOwn({ uid: 1000, mode: FILE | 0o600 }, 0, FILE), false, "another user's file, even for root");
    assert.equal(trustedOwn({ uid: 0, mode: FILE | 0o600 }, 1000, FILE), false, "root's file for another user: not made by this user");
    assert.equal(trustedOwn({ uid: 0, mode: DIR | 0o770 }, 0, DIR), false, "group-writable");
    assert.equal(trustedOwn({ uid: 0, mode: DIR | 0o1777 }, 0, DIR), false, "sticky but world-writable");
    assert.equal(trustedOwn({ uid: 0, mode: FILE | 0o602 }, 0, FILE), false, "world-writable");
    assert.equal(trustedOwn({ uid: 0, mode: FILE | 0o600 }, 0, DIR), false, "a file where the directory should be");
    assert.equal(trustedOwn({ uid: 0, mode: constants.S_IFIFO | 0o600 }, 0, FILE), false, "a FIFO");
  });
  it("the directories above it: root's or the user's, writable by nobody else unless sticky and root's (/tmp)", () => {
    assert.equal(trustedAncestor({ uid: 0, mode: DIR | 0o755 }, 1000), true);
    assert.equal(trustedAncestor({ uid: 1000, mode: DIR | 0o700 }, 1000), true);
    assert.equal(trustedAncestor({ uid: 0, mode: DIR | 0o1777 }, 1000), true);
    assert.equal(trustedAncestor({ uid: 1000, mode: DIR | 0o1777 }, 1000), false, "sticky but not root's");
    assert.equal(trustedAncestor({ uid: 0, mode: DIR | 0o775 }, 0), false, "group-writable");
    assert.equal(trustedAncestor({ uid: 1001, mode: DIR | 0o755 }, 1000), false, "another user's");
  });
});

describe("the program the loader carries", () => {
  // dist/hail.mjs as src/build/bundle.mjs writes it
  const loader = 'import{runBundle}from"x";runBundle("/*hail-program\\n");';
  it("is the comment at the end, with each carried '*', U+00B7, '/' back as '*\/', and the rest as it is", () => {
    const file = Buffer.from(`#!/usr/bin/env node\n${loader}\n/*hail-program\n(function(){a("*\u00b7/*",/x*\u00b7/,/\u2192|‘/)})\n*/\n`);
    assert.equal(programIn(file), '(function(){a("*/*",/x*/,/\u2192|‘/)})');
  });
  it("a file without one (the loader's own words are no start) is an error that says to rebuild", () => {
    assert.throws(() => programIn(Buffer.from(`#!/usr/bin/env node\n${loader}\n`)), /rebuild it/);
  });
});

describe("every command of the CLI has its own code cache", () => {
  it("each command word (src/cli/command-list.ts) picks its own cache, its alias the command's", async () => {
    const { commandWords } = await import("../src/cli/command-list.js");
    const own = (word: string) => (word === "deploy" ? "run" : word);
    const words = commandWords();
    assert.ok(words.includes("plan") && words.includes("completion"), words.join(" "));
    assert.deepEqual(words.filter((w) => cacheCommand([w]) !== own(w)), [], "a command missing from compile-cache.ts's COMMANDS shares the 'other' cache");
  });
});
