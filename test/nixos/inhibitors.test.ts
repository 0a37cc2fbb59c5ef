// Switch inhibitors (NixOS 26.05): the bytes of two systems' switch-inhibitors files are
// compared, never parsed; and the refusal of switch-to-configuration is told from any other
// failure by its own words.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { nodeProfileFs } from "../../src/profile/fs.js";
import { describeChange, inhibitorRefusal, inhibitorsChange } from "../../src/nixos/inhibitors.js";

describe("inhibitorsChange", () => {
  let root: string;
  const system = async (name: string, inhibitors?: string) => {
    const dir = path.join(root, name);
    await mkdir(dir, { recursive: true });
    if (inhibitors !== undefined) await writeFile(path.join(dir, "switch-inhibitors"), inhibitors);
    return dir;
  };
  before(async () => void (root = await mkdtemp(path.join(tmpdir(), "hail-inhibitors-"))));
  after(() => rm(root, { recursive: true, force: true }));

  it("no file on either side: no inhibitors, nothing differs", async () => {
    assert.equal(await inhibitorsChange(nodeProfileFs, await system("a"), await system("b")), null);
  });
  it("the same bytes: nothing differs", async () => {
    assert.equal(await inhibitorsChange(nodeProfileFs, await system("c", '{"systemd":"258"}'), await system("d", '{"systemd":"258"}')), null);
  });
  it("bytes that mean the same JSON still differ: hail does not parse the file", async () => {
    const change = await inhibitorsChange(nodeProfileFs, await system("e", '{"systemd": "258"}'), await system("f", '{"systemd":"258"}'));
    assert.notEqual(change, null);
  });
  it("a file on one side only differs, and is described by size and digest, not by content", async () => {
    const change = await inhibitorsChange(nodeProfileFs, await system("g", '{"systemd":"secret-ish-content"}'), await system("h"));
    assert.ok(change);
    const text = describeChange(change);
    assert.match(text, /^switch inhibitors differ \(booted: none, new: 32 bytes sha256:[0-9a-f]{12}\)$/);
    assert.doesNotMatch(text, /systemd/);
    const back = await inhibitorsChange(nodeProfileFs, await system("h"), await system("g"));
    assert.match(describeChange(back ?? assert.fail("differs")), /^switch inhibitors differ \(booted: 32 bytes sha256:[0-9a-f]{12}, new: none\)$/);
  });
});

describe("inhibitorRefusal", () => {
  const ng = [
    "Checking switch inhibitors...",
    "There are changes to critical components of the system:",
    "",
    "dbus-implementation : dbus -> broker",
    "",
    "Switching into this system is not recommended.",
    "You probably want to run 'nixos-rebuild boot' and reboot your system instead.",
    "",
    "If you really want to switch into this configuration directly, then",
    "you can set NIXOS_NO_CHECK=1 to ignore pre-switch checks.",
    "",
    "Pre-switch check 'switchInhibitors' failed",
    "Pre-switch checks failed",
  ].join("\n");
  it("switch-to-configuration-ng's refusal for the inhibitors", () => assert.equal(inhibitorRefusal(ng), true));
  it("an earlier revision's text, which names no check", () => {
    assert.equal(inhibitorRefusal("Found diff in switch inhibitors:\n...\nyou can set NIXOS_NO_CHECK=1 to ignore these pre-switch checks."), true);
    assert.equal(inhibitorRefusal("there are changes to critical components of the system:\n\nyou can set NIXOS_NO_CHECK=1 to ignore switch inhibitors"), true);
  });
  it("another pre-switch check that failed too is a failure: an operator's guard is never rebooted into", () => {
    assert.equal(inhibitorRefusal(`${ng}\nPre-switch check 'hostname' failed`), false);
    assert.equal(inhibitorRefusal("hostname differs; set NIXOS_NO_CHECK=1 to ignore\nPre-switch check 'hostname' failed\nPre-switch checks failed"), false);
  });
  it("any other failure, even one that mentions NIXOS_NO_CHECK, is a failure", () => {
    assert.equal(inhibitorRefusal("Failed to start foo.service\nerror: exit 4"), false);
    assert.equal(inhibitorRefusal("hostname differs: set NIXOS_NO_CHECK=1 to ignore"), false);
    assert.equal(inhibitorRefusal(""), false);
  });
});
