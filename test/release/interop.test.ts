// Interop with the real OpenSSH, both ways (issue 23, point 1): hail accepts what
// `ssh-keygen -Y sign -n hail-release` made, for every key type it verifies, and
// `ssh-keygen -Y verify` accepts what hail's signing (buildReleaseManifest + signReleaseFile) made.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { ReleaseRejected } from "../../src/errors.js";
import { parseAllowedSigners } from "../../src/release/allowed-signers.js";
import { buildReleaseManifest, createSignRunner, signReleaseFile } from "../../src/release/sign.js";
import { verifyRelease } from "../../src/release/verify.js";
import { APP_PATH, manifestBytes } from "./sshsig-fixture.js";

const PRINCIPAL = "release@example.org";
const KEYS: [string, string[]][] = [
  ["ed25519", ["-t", "ed25519"]],
  ["ecdsa-256", ["-t", "ecdsa", "-b", "256"]],
  ["ecdsa-384", ["-t", "ecdsa", "-b", "384"]],
  ["ecdsa-521", ["-t", "ecdsa", "-b", "521"]],
  ["rsa", ["-t", "rsa", "-b", "2048"]],
];

let dir: string;
let allowedSigners: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "hail-interop-"));
  const lines: string[] = [];
  for (const [name, args] of KEYS) {
    await execa("ssh-keygen", ["-q", ...args, "-N", "", "-C", name, "-f", path.join(dir, name)]);
    const pub = (await readFile(path.join(dir, `${name}.pub`), "utf8")).trim().split(" ").slice(0, 2).join(" ");
    lines.push(`${PRINCIPAL} namespaces="hail-release" ${pub}`);
  }
  allowedSigners = path.join(dir, "allowed_signers");
  await writeFile(allowedSigners, `${lines.join("\n")}\n`);
});
after(() => rm(dir, { recursive: true, force: true }));

async function keygenSign(file: string, key: string, extra: string[] = []): Promise<string> {
  await execa("ssh-keygen", ["-Y", "sign", "-f", path.join(dir, key), ...extra, file]);
  return readFile(`${file}.sig`, "utf8");
}

async function keygenVerify(file: string, namespace = "hail-release") {
  return execa("ssh-keygen", ["-Y", "verify", "-f", allowedSigners, "-I", PRINCIPAL, "-n", namespace, "-s", `${file}.sig`], { inputFile: file, reject: false });
}

describe("hail verifies what ssh-keygen -Y sign made", () => {
  for (const [name] of KEYS) {
    for (const hash of ["sha512", "sha256"]) {
      it(`${name} key, ${hash}`, async () => {
        const file = path.join(dir, `manifest-${name}-${hash}.json`);
        await writeFile(file, manifestBytes());
        const signature = await keygenSign(file, name, ["-n", "hail-release", "-O", `hashalg=${hash}`]);
        const signers = parseAllowedSigners(await readFile(allowedSigners, "utf8"), allowedSigners);
        const release = verifyRelease(await readFile(file), signature, signers, new Date(), `file://${file}`);
        assert.equal(release.principal, PRINCIPAL);
        const printed = await execa("ssh-keygen", ["-l", "-f", path.join(dir, `${name}.pub`)]);
        assert.ok(printed.stdout.includes(release.fingerprint), `${printed.stdout} names ${release.fingerprint}`);
        // and the same bytes with one changed are refused
        const tampered = Buffer.from(await readFile(file));
        tampered.writeUInt8(tampered.readUInt8(tampered.length - 3) ^ 1, tampered.length - 3);
        assert.throws(() => verifyRelease(tampered, signature, signers, new Date(), "u"), (err) => err instanceof ReleaseRejected && err.kind === "signature-invalid");
      });
    }
  }

  it("refuses what ssh-keygen signed for another namespace (-n file)", async () => {
    const file = path.join(dir, "manifest-other-namespace.json");
    await writeFile(file, manifestBytes());
    const signature = await keygenSign(file, "ed25519", ["-n", "file"]);
    const signers = parseAllowedSigners(`${PRINCIPAL} ${(await readFile(path.join(dir, "ed25519.pub"), "utf8")).split(" ").slice(0, 2).join(" ")}\n`, "allowed_signers");
    const bytes = await readFile(file);
    assert.throws(() => verifyRelease(bytes, signature, signers, new Date(), "u"), (err) => err instanceof ReleaseRejected && err.kind === "namespace-wrong");
  });
});

describe("ssh-keygen -Y verify accepts what hail signed", () => {
  it("buildReleaseManifest + signReleaseFile, with each key type", async () => {
    for (const [name] of KEYS) {
      const file = path.join(dir, `hail-signed-${name}.json`);
      await writeFile(file, buildReleaseManifest("myproject/main/release_gate", 100, { tests: APP_PATH, myapp: APP_PATH }, new Date("2027-01-01T00:00:00.123Z")));
      await signReleaseFile(createSignRunner(), file, path.join(dir, name));
      const verified = await keygenVerify(file);
      assert.equal(verified.exitCode, 0, `${name}: ${verified.stdout}${verified.stderr}`);
      assert.match(verified.stdout, /Good "hail-release" signature for release@example.org/);
      // the namespace is part of what was signed: ssh-keygen refuses it for another
      assert.notEqual((await keygenVerify(file, "file")).exitCode, 0, `${name}: accepted for namespace file`);
    }
  });
});
