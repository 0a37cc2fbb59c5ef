// HTTPS by default, against the built CLI: a plain http:// gate or job off this machine is
// refused (64, naming the flag) before any request; --allow-insecure-http (config
// allowInsecureHttp) lets it through; loopback is never refused. No test connects anywhere
// but 127.0.0.1: every hail here runs with a preloaded guard that records and refuses each
// connection to another host (and so any name lookup), as belt and braces for "no request".
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { runHail, type HailRun } from "../support/cli.js";
import { worldAtGreenGate, type World } from "./world.js";

const OFF_MACHINE = "http://hydra.example.invalid/job/myproject/main/release_gate";

/** Records (and refuses) every connection not to 127.0.0.1, before any name is looked up. */
const GUARD = `
import net from "node:net";
import { appendFileSync } from "node:fs";
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof first !== "object" || first === null) first = { port: args[0], host: args[1] };
  // A Unix socket (path set), or TCP to 127.0.0.1 (path null): the lab's own.
  if (typeof first.path === "string" || first.host === "127.0.0.1") return connect.apply(this, args);
  const host = first.host ?? "localhost";
  appendFileSync(process.env.HAIL_TEST_CONNECT_LOG, host + ":" + first.port + "\\n");
  const err = Object.assign(new Error("connect ECONNREFUSED " + host + " (refused by the test's guard)"), { code: "ECONNREFUSED" });
  process.nextTick(() => this.destroy(err));
  return this;
};
`;

describe("HTTPS by default (--allow-insecure-http)", () => {
  let w: World;
  let dir: string;
  let connectLog: string;
  let guardEnv: NodeJS.ProcessEnv;

  before(async () => {
    ({ world: w } = await worldAtGreenGate("1"));
    dir = await mkdtemp(path.join(os.tmpdir(), "hail-insecure-"));
    const guard = path.join(dir, "guard.mjs");
    await writeFile(guard, GUARD);
    connectLog = path.join(dir, "connections.log");
    await writeFile(connectLog, "");
    guardEnv = { ...w.env, NODE_OPTIONS: `--import ${pathToFileURL(guard).href}`, HAIL_TEST_CONNECT_LOG: connectLog };
  });
  after(async () => {
    await w.close();
    await rm(dir, { recursive: true, force: true });
  });

  const hail = (args: string[]): Promise<HailRun> => runHail(args, guardEnv);
  const connections = async () => (await readFile(connectLog, "utf8")).split("\n").filter((l) => l !== "");
  const lastLine = (r: HailRun) => r.stderr.trimEnd().split("\n").at(-1) ?? "";
  const target = (flag: "--gate-job" | "--job-uri", url: string) =>
    flag === "--gate-job" ? ["--gate-job", url, "--constituent", "myapp", "--profile", "myapp", ...w.labArgs()] : ["--job-uri", url, "--profile", "myapp", ...w.labArgs()];
  const configFile = async (name: string, extra: Record<string, unknown>) => {
    const file = path.join(dir, name);
    await writeFile(file, JSON.stringify({ stateDir: w.stateDir, profilesDir: w.lab.profilesDir, logFormat: "json", ...extra, targets: [{ profile: "myapp", gateJob: OFF_MACHINE, constituent: "myapp" }] }));
    return file;
  };

  // The manifest URL and hail sign's gate follow the same rule (issue: a gate, login or manifest URL).
  const OFF_MACHINE_MANIFEST = "http://releases.example.invalid/myapp.json";
  const refusals: Array<[string, () => Promise<string[]>, string, string?]> = [
    ["--oneshot --gate-job", async () => [...target("--gate-job", OFF_MACHINE), "--oneshot"], "--gate-job"],
    ["plan --gate-job", async () => ["plan", ...target("--gate-job", OFF_MACHINE)], "--gate-job"],
    ["--oneshot --job-uri", async () => [...target("--job-uri", OFF_MACHINE), "--oneshot"], "--job-uri"],
    ["plan --job-uri", async () => ["plan", ...target("--job-uri", OFF_MACHINE)], "--job-uri"],
    ["--oneshot --config with gateJob", async () => ["--config", await configFile("refused.json", {}), "--oneshot"], "--gate-job"],
    ["--oneshot with a login (--hydra-user)", async () => {
      const password = path.join(dir, "password");
      await writeFile(password, "pw\n", { mode: 0o600 });
      return [...target("--gate-job", OFF_MACHINE), "--hydra-user", "deployer", "--hydra-password-file", password, "--oneshot"];
    }, "--gate-job"],
    ["--oneshot --release-manifest", async () => {
      const signers = path.join(dir, "allowed_signers");
      await writeFile(signers, "release@example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n", { mode: 0o600 });
      return [...target("--gate-job", w.gateUrl), "--release-manifest", OFF_MACHINE_MANIFEST, "--allowed-signers", signers, "--oneshot"];
    }, "--release-manifest", OFF_MACHINE_MANIFEST],
    ["sign --gate-job", async () => {
      const key = path.join(dir, "release-key");
      await writeFile(key, "not used: the URL is refused first\n", { mode: 0o600 });
      return ["sign", "--gate-job", OFF_MACHINE, "--key", key, "--output", path.join(dir, "myapp.json")];
    }, "--gate-job"],
  ];
  for (const [what, args, flag, url = OFF_MACHINE] of refusals) {
    it(`${what}: plain http:// off this machine is refused with 64 naming ${flag}, without a connection`, async () => {
      const before = await connections();
      const r = await hail(await args());
      assert.equal(r.code, 64, r.stderr);
      const host = new URL(url).hostname;
      assert.ok(lastLine(r).includes(`${flag} ${url}: plain http:// to ${host}, which is not this machine`), lastLine(r));
      assert.match(lastLine(r), /give --allow-insecure-http \(config "allowInsecureHttp": true\)/);
      assert.deepEqual(await connections(), before, "hail tried to connect");
      assert.equal(await w.profileTarget("myapp"), null);
    });
  }

  const allowed: Array<[string, () => Promise<string[]>]> = [
    ["--allow-insecure-http", async () => [...target("--gate-job", OFF_MACHINE), "--allow-insecure-http", "--oneshot"]],
    ["plan --allow-insecure-http", async () => ["plan", ...target("--job-uri", OFF_MACHINE), "--allow-insecure-http"]],
    ['config "allowInsecureHttp": true', async () => ["--config", await configFile("allowed.json", { allowInsecureHttp: true }), "--oneshot"]],
  ];
  for (const [what, args] of allowed) {
    it(`${what}: hail goes to Hydra (the guard refuses the connection: 69)`, async () => {
      const before = (await connections()).length;
      const r = await hail(await args());
      assert.equal(r.code, 69, r.stderr);
      assert.doesNotMatch(r.stderr, /not this machine/);
      const tried = (await connections()).slice(before);
      assert.ok(tried.length > 0 && tried.every((c) => c === "hydra.example.invalid:80"), tried.join(", "));
    });
  }

  it("loopback needs no flag: plan and a one-shot over http://127.0.0.1 work", async () => {
    const before = await connections();
    const plan = await hail(["plan", ...w.gateArgs("myapp")]);
    assert.equal(plan.code, 0, plan.stderr);
    const r = await hail([...w.gateArgs("myapp"), "--oneshot"]);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(await w.profileTarget("myapp"), null);
    assert.deepEqual(await connections(), before);
  });
});
