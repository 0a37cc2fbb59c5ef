// The signing side without a real ssh-keygen: the manifest's exact bytes, the command line, and
// what a missing or failing ssh-keygen becomes (73, 74 with its words).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EnvironmentError } from "../../src/errors.js";
import { parseReleaseManifest } from "../../src/release/manifest.js";
import { buildReleaseManifest, signCommand, signReleaseFile, type CommandOutcome, type SignRunner } from "../../src/release/sign.js";
import { APP_PATH } from "./sshsig-fixture.js";

const TESTS_PATH = "/nix/store/1bq3x6jz9mphgkfs8wrsbkvsy1iw4m57-tests-1.0";

function runnerAnswering(outcome: CommandOutcome): SignRunner & { commands: string[][] } {
  const commands: string[][] = [];
  return {
    commands,
    run: async (cmd) => {
      commands.push([cmd.file, ...cmd.args]);
      return outcome;
    },
  };
}

async function environmentError(promise: Promise<void>): Promise<EnvironmentError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof EnvironmentError, String(err));
    return err;
  }
  assert.fail("signing succeeded");
}

describe("buildReleaseManifest", () => {
  it("writes fields in order, constituents sorted, whole-second UTC expiry, and one newline", () => {
    const bytes = buildReleaseManifest("myproject/main/release_gate", 100, { tests: TESTS_PATH, myapp: APP_PATH }, new Date("2027-01-01T00:00:00.789Z"));
    assert.equal(
      new TextDecoder().decode(bytes),
      `{\n  "hail-release": 1,\n  "job": "myproject/main/release_gate",\n  "build": 100,\n  "constituents": {\n    "myapp": "${APP_PATH}",\n    "tests": "${TESTS_PATH}"\n  },\n  "expires": "2027-01-01T00:00:00Z"\n}\n`,
    );
  });

  it("leaves expires out when there is none, and what it writes is what hosts parse", () => {
    const bytes = buildReleaseManifest("myproject/main/release_gate", 7, { myapp: APP_PATH }, null);
    assert.deepEqual(parseReleaseManifest(bytes, "u"), { "hail-release": 1, job: "myproject/main/release_gate", build: 7, constituents: { myapp: APP_PATH } });
  });
});

describe("signReleaseFile", () => {
  it("runs ssh-keygen -Y sign -f KEY -n hail-release FILE, no shell", async () => {
    assert.deepEqual(signCommand("/srv/release.json", "/keys/release"), { file: "ssh-keygen", args: ["-Y", "sign", "-f", "/keys/release", "-n", "hail-release", "/srv/release.json"] });
    const runner = runnerAnswering({ exitCode: 0, startError: null, stderr: "Signing file /srv/release.json\nWrite signature to /srv/release.json.sig\n" });
    await signReleaseFile(runner, "/srv/release.json", "/keys/release");
    assert.deepEqual(runner.commands, [["ssh-keygen", "-Y", "sign", "-f", "/keys/release", "-n", "hail-release", "/srv/release.json"]]);
  });

  it("no ssh-keygen: 73, naming the file the operator asked for and the package to install", async () => {
    const err = await environmentError(signReleaseFile(runnerAnswering({ exitCode: null, startError: "ENOENT", stderr: "" }), "/tmp/work/release.json", "/keys/release", "/srv/release.json"));
    assert.equal(err.exitCode, 73);
    assert.match(err.message, /^cannot sign \/srv\/release\.json: ssh-keygen is not installed/);
    assert.match(err.hint ?? "", /openssh-client/);
  });

  it("ssh-keygen failing: 74 with its last words and the command", async () => {
    const stderr = "Signing file /srv/release.json\nEnter passphrase:\nLoad key \"/keys/release\": incorrect passphrase supplied to decrypt private key\n";
    const err = await environmentError(signReleaseFile(runnerAnswering({ exitCode: 255, startError: null, stderr }), "/srv/release.json", "/keys/release"));
    assert.equal(err.exitCode, 74);
    assert.match(err.message, /`ssh-keygen -Y sign -f \/keys\/release -n hail-release \/srv\/release\.json` failed \(exit 255\): .*incorrect passphrase/);
    assert.match(err.hint ?? "", /--key \/keys\/release/);
  });
});
