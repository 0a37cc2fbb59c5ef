// `hail sign` (issue 23), the built CLI against the Hydra test server: it writes a manifest
// naming the gate's latest-finished build and its constituents, and a signature that the real
// `ssh-keygen -Y verify` accepts; when there is nothing to sign, or no Hydra, or no working
// ssh-keygen, it writes nothing at all.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { parseAllowedSigners } from "../../src/release/allowed-signers.js";
import { verifyRelease } from "../../src/release/verify.js";
import { assertEnded } from "./ended.js";
import type { World } from "./world.js";
import { createWorld, greenGate } from "./world.js";

const APP = "/nix/store/9z3pq0yc4ck6h9wdy5r5a7cdbfh4bm8v-myapp-1";
const TESTS = "/nix/store/1bq3x6jz9mphgkfs8wrsbkvsy1iw4m57-tests-1.0";
const PRINCIPAL = "release@example.org";

let w: World;
let keys: string;
let key: string;
let allowedSigners: string;
let n = 0;

before(async () => {
  w = await createWorld();
  for (const b of greenGate(100, 10, APP)) w.hydra.addBuild(b);
  // a gate whose only build failed: latest-finished has nothing to offer
  w.hydra.addBuild({ id: 300, project: "myproject", jobset: "main", job: "red_gate", finished: true, buildstatus: 1, jobsetevals: [30], outputs: { out: "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-red_gate" }, constituents: [] });
  keys = await mkdtemp(path.join(w.lab.root, "keys-"));
  key = path.join(keys, "release");
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", PRINCIPAL, "-f", key]);
  const pub = (await readFile(`${key}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
  allowedSigners = path.join(keys, "allowed_signers");
  await writeFile(allowedSigners, `${PRINCIPAL} namespaces="hail-release" ${pub}\n`);
});
after(() => w.close());

/** An empty directory of its own for each case: what the case wrote is all that is in it. */
async function outDir(): Promise<string> {
  const dir = path.join(w.lab.root, `out-${++n}`);
  await mkdir(dir);
  return dir;
}

function signArgs(gateUrl: string, output: string, extra: string[] = []): string[] {
  return ["sign", "--gate-job", gateUrl, "--key", key, "--output", output, "--log-format", "json", ...extra];
}

describe("hail sign", () => {
  it("writes the gate build's manifest with every constituent, signed so that ssh-keygen -Y verify accepts it", async () => {
    const dir = await outDir();
    const file = path.join(dir, "release.json");
    const r = await w.hail(signArgs(w.gateUrl, file));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), [file, `${file}.sig`]);
    assert.deepEqual(JSON.parse(await readFile(file, "utf8")), {
      "hail-release": 1,
      job: "myproject/main/release_gate",
      build: 100,
      constituents: { myapp: APP, tests: TESTS },
    });
    assert.deepEqual((await readdir(dir)).sort(), ["release.json", "release.json.sig"], "no work files left behind");
    const verified = await execa("ssh-keygen", ["-Y", "verify", "-f", allowedSigners, "-I", PRINCIPAL, "-n", "hail-release", "-s", `${file}.sig`], {
      inputFile: file,
      reject: false,
    });
    assert.equal(verified.exitCode, 0, `${verified.stdout}\n${verified.stderr}`);
    assert.match(verified.stdout, /Good "hail-release" signature for release@example.org/);
    // and hail's own check on a host, with the same allowed_signers
    const signers = parseAllowedSigners(await readFile(allowedSigners, "utf8"), allowedSigners);
    const release = verifyRelease(await readFile(file), await readFile(`${file}.sig`, "utf8"), signers, new Date(), `file://${file}`);
    assert.equal(release.principal, PRINCIPAL);
    assert.equal(release.manifest.build, 100);
  });

  it("--expires puts the expiry that far after the signing into the signed manifest", async () => {
    const file = path.join(await outDir(), "release.json");
    const before = Date.now();
    const r = await w.hail(signArgs(w.gateUrl, file, ["--expires", "2h"]));
    const after = Date.now();
    assert.equal(r.code, 0, r.stderr);
    const { expires } = JSON.parse(await readFile(file, "utf8")) as { expires: string };
    const at = Date.parse(expires);
    const twoHours = 2 * 3_600_000;
    // whole seconds in the manifest: the bounds allow the second cut off
    assert.ok(at >= before + twoHours - 1000 && at <= after + twoHours, `expires ${expires} is not 2h after the run`);
  });

  it("a gate with no successful build: 75 like plan, and no file written", async () => {
    const dir = await outDir();
    const r = await w.hail(signArgs(`${w.hydra.url}/job/myproject/main/red_gate`, path.join(dir, "release.json")));
    assertEnded(r, 75, "nothing to sign at", "red_gate");
    assert.deepEqual(await readdir(dir), []);
  });

  it("a Hydra that cannot be reached: 69, and no file written", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dir = await outDir();
    const r = await w.hail(signArgs(`http://127.0.0.1:${port}/job/myproject/main/release_gate`, path.join(dir, "release.json"), ["--timeout", "5s"]));
    assertEnded(r, 69, `127.0.0.1:${port}`);
    assert.deepEqual(await readdir(dir), []);
  });

  it("no ssh-keygen on PATH: 73 naming it, and no file written", async () => {
    const dir = await outDir();
    const emptyBin = await mkdtemp(path.join(w.lab.root, "bin-"));
    const r = await w.hail(signArgs(w.gateUrl, path.join(dir, "release.json")), { PATH: emptyBin });
    assertEnded(r, 73, "ssh-keygen is not installed");
    assert.deepEqual(await readdir(dir), []);
  });

  it("ssh-keygen failing (a key file that is no key): 74 with what ssh-keygen said, and no file written", async () => {
    const dir = await outDir();
    const notAKey = path.join(keys, "not-a-key");
    await writeFile(notAKey, "this is not a key\n", { mode: 0o600 });
    const file = path.join(dir, "release.json");
    const r = await w.hail(["sign", "--gate-job", w.gateUrl, "--key", notAKey, "--output", file]);
    assertEnded(r, 74, `cannot sign ${file}: \``, "ssh-keygen -Y sign", notAKey);
    assert.match(r.stderr.trim().split("\n").at(-1) ?? "", /failed \(exit \d+\): \S/, "ssh-keygen's own words follow");
    assert.deepEqual(await readdir(dir), []);
  });

  it("without --output: 64 before any request to Hydra", async () => {
    const requests = w.hydra.requests.length;
    const r = await w.hail(["sign", "--gate-job", w.gateUrl, "--key", key]);
    assertEnded(r, 64, "--output FILE");
    assert.equal(w.hydra.requests.length, requests);
  });
});
