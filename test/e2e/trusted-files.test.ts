// The files root hail acts on, end to end (issue 29, points 4 and 7): the state dir and its
// files, and the files --config, --netrc-file and --hydra-password-file name. One that
// another user (`nobody`) owns or that others can write is refused (73 for state, 64 for a
// flag's file); a FIFO or an oversized file is refused at once, never read; a secret others
// can read is warned about; directories hail makes have their mode whatever the umask.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { emptyState } from "../../src/state/schema.js";
import { runHail, type HailRun } from "../support/cli.js";
import { assertEnded, runHailIn, SAFETY_TIMEOUT_MS } from "./ended.js";
import { stateKey, worldAtGreenGate, type World } from "./world.js";

const NOBODY = 65534;
let w: World;
let n = 0;
before(async () => {
  ({ world: w } = await worldAtGreenGate("1"));
});
after(() => w.close());

const fresh = (name: string) => path.join(w.lab.root, `${name}-${++n}`);
const profilePath = (name = "myapp") => path.join(w.lab.profilesDir, name);
const stateFileIn = (stateDir: string, name = "myapp") => path.join(stateDir, `${stateKey(profilePath(name))}.json`);

describe("trusted files: the state dir, its files and the files flags name", () => {
  const oneshot = (stateDir: string, extra: string[] = []): Promise<HailRun> =>
    runHail([...w.gateArgs("myapp"), "--oneshot", "--state-dir", stateDir, ...extra], w.env, SAFETY_TIMEOUT_MS);
  const plan = (extra: string[]): Promise<HailRun> => runHail(["plan", ...w.gateArgs("myapp"), "--state-dir", fresh("state"), ...extra], w.env, SAFETY_TIMEOUT_MS);

  /** A state dir (0700, root's) holding a valid state file for myapp, or `write` what it likes there. */
  async function stateDirWithFile(write?: (file: string) => Promise<void>): Promise<{ stateDir: string; file: string }> {
    const stateDir = fresh("state");
    await mkdir(stateDir, { mode: 0o700 });
    const file = stateFileIn(stateDir);
    if (write) await write(file);
    else await writeFile(file, `${JSON.stringify(emptyState("myapp", profilePath()))}\n`, { mode: 0o600 });
    return { stateDir, file };
  }

  it("a state file another user planted is refused (73) and nothing runs", async () => {
    const { stateDir, file } = await stateDirWithFile();
    await chown(file, NOBODY, NOBODY);
    const calls = (await w.nixCalls()).length;
    assertEnded(await oneshot(stateDir), 73, file, /owned by uid 65534, not by root/);
    assert.equal((await w.nixCalls()).length, calls, "no nix command ran");
  });

  it("a state file others can write is refused (73)", async () => {
    const { stateDir, file } = await stateDirWithFile();
    await chmod(file, 0o646);
    assertEnded(await oneshot(stateDir), 73, file, /writable by others \(mode 0646\)/);
  });

  it("a state dir another user owns, or that others can write, is refused (73) by a one-shot and by hail hold", async () => {
    const foreign = fresh("state");
    await mkdir(foreign, { mode: 0o700 });
    await chown(foreign, NOBODY, NOBODY);
    const open = fresh("state");
    await mkdir(open);
    await chmod(open, 0o777);
    for (const [dir, why] of [[foreign, /owned by uid 65534/], [open, /writable by group and others \(mode 0777\)/]] as const) {
      assertEnded(await oneshot(dir), 73, `state dir ${dir}`, why);
      const hold = await runHail(["hold", "myapp", "--profiles-dir", w.lab.profilesDir, "--state-dir", dir], w.env, SAFETY_TIMEOUT_MS);
      assertEnded(hold, 73, `state dir ${dir}`, why);
    }
  });

  it("planted state files naming this config file run no bin/deactivate: they are skipped, named, with the reason", async () => {
    const stateDir = fresh("state");
    await mkdir(stateDir, { mode: 0o700 });
    const marker = fresh("deactivated");
    const evil = fresh("evil");
    await mkdir(path.join(evil, "bin"), { recursive: true });
    await writeFile(path.join(evil, "bin", "deactivate"), `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
    const config = fresh("hail.json");
    const target = { profile: "myapp", gateJob: w.gateUrl, constituent: "myapp" };
    await writeFile(config, JSON.stringify({ profilesDir: w.lab.profilesDir, stateDir, logFormat: "json", targets: [target] }));
    const planted = { ...emptyState("evil", evil), managedBy: path.resolve(config) };
    const byNobody = path.join(stateDir, "evil.json");
    const writable = path.join(stateDir, "evil2.json");
    for (const file of [byNobody, writable]) await writeFile(file, JSON.stringify(planted), { mode: 0o600 });
    await chown(byNobody, NOBODY, NOBODY);
    await chmod(writable, 0o666);
    const r = await runHail(["--config", config, "--oneshot"], w.env, SAFETY_TIMEOUT_MS);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(marker), "the planted profile's bin/deactivate did not run");
    assert.match(r.stderr, new RegExp(`skipping ${byNobody} [^\\n]*owned by uid 65534`));
    assert.match(r.stderr, new RegExp(`skipping ${writable} [^\\n]*writable by group and others \\(mode 0666\\)`));
  });

  it("--config, --netrc-file and --hydra-password-file: another user's or a writable one is refused (64), naming the flag and the file", async () => {
    const config = fresh("hail.json");
    await writeFile(config, JSON.stringify({ targets: [{ profile: "myapp", gateJob: w.gateUrl, constituent: "myapp" }] }));
    await chown(config, NOBODY, NOBODY);
    const netrc = fresh("netrc");
    await writeFile(netrc, "machine 127.0.0.1 login deploy password s3cret\n", { mode: 0o600 });
    await chown(netrc, NOBODY, NOBODY);
    const password = fresh("password");
    await writeFile(password, "s3cret\n");
    await chmod(password, 0o620);
    const configRun = await runHail(["plan", "--config", config, ...w.labArgs()], w.env, SAFETY_TIMEOUT_MS);
    assertEnded(configRun, 64, `--config ${config}: refused`, /owned by uid 65534/);
    assertEnded(await plan(["--netrc-file", netrc]), 64, `--netrc-file ${netrc}: refused`, /owned by uid 65534/);
    assertEnded(await plan(["--hydra-user", "deploy", "--hydra-password-file", password]), 64, `--hydra-password-file ${password}: refused`, /writable by its group \(mode 0620\)/);
  });

  it("a netrc or password file others can read is used, with a warning naming it, its mode and the fix", async () => {
    const netrc = fresh("netrc");
    await writeFile(netrc, "machine 127.0.0.1 login deploy password s3cret\n");
    await chmod(netrc, 0o644);
    const r = await plan(["--netrc-file", netrc]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`--netrc-file ${netrc} is readable by other users \\(mode 0644\\)[^\\n]*chmod 600`));
    const password = fresh("password");
    await writeFile(password, "s3cret\n");
    await chmod(password, 0o640);
    const login = await plan(["--hydra-user", "deploy", "--hydra-password-file", password]);
    assert.match(login.stderr, new RegExp(`--hydra-password-file ${password} is readable by other users \\(mode 0640\\)`));
    assert.ok(!login.stderr.includes("s3cret"));
  });

  it("under umask 000 the state dir is made 0700, the state file 0600, a metrics file's dir 0755 and the file 0644", async () => {
    const stateDir = path.join(fresh("umask"), "state");
    const metricsFile = path.join(fresh("metrics"), "sub", "hail.prom");
    const args = [...w.gateArgs("myapp"), "--oneshot", "--state-dir", stateDir, "--metrics-file", metricsFile];
    const r = await runHailIn(args, w.env, { umask: "000" });
    assert.equal(r.code, 0, r.stderr);
    const mode = async (p: string) => ((await stat(p)).mode & 0o777).toString(8);
    assert.equal(await mode(stateDir), "700");
    assert.equal(await mode(path.dirname(stateDir)), "755", "a parent hail made");
    assert.equal(await mode(stateFileIn(stateDir)), "600");
    assert.equal(await mode(path.dirname(metricsFile)), "755");
    assert.equal(await mode(path.dirname(path.dirname(metricsFile))), "755");
    assert.equal(await mode(metricsFile), "644");
  });
});

describe("special and oversized files are refused at once, never read", () => {
  const fifo = async (name: string) => {
    const file = fresh(name);
    await execa("mkfifo", [file]);
    return file;
  };
  const run = (args: string[]) => runHail(args, w.env, SAFETY_TIMEOUT_MS);

  it("a FIFO as the state file: 73, not a regular file, by a one-shot and by hail status", async () => {
    const stateDir = fresh("state");
    await mkdir(stateDir, { mode: 0o700 });
    const file = stateFileIn(stateDir);
    await execa("mkfifo", ["-m", "600", file]);
    assertEnded(await run([...w.gateArgs("myapp"), "--oneshot", "--state-dir", stateDir]), 73, file, /not a regular file \(a FIFO/);
    assertEnded(await run(["status", "myapp", "--profiles-dir", w.lab.profilesDir, "--state-dir", stateDir]), 73, file, /not a regular file/);
  });

  it("a FIFO as --config, --netrc-file or --hydra-password-file: 64, not a regular file, naming the flag", async () => {
    const config = await fifo("hail.json");
    assertEnded(await run(["--config", config, "--oneshot"]), 64, `--config ${config}: refused: it is not a regular file (a FIFO`);
    const netrc = await fifo("netrc");
    assertEnded(await run(["plan", ...w.gateArgs("myapp"), "--netrc-file", netrc]), 64, `--netrc-file ${netrc}: refused: it is not a regular file (a FIFO`);
    const password = await fifo("password");
    const login = ["--hydra-user", "deploy", "--hydra-password-file", password];
    assertEnded(await run(["plan", ...w.gateArgs("myapp"), ...login]), 64, `--hydra-password-file ${password}: refused: it is not a regular file (a FIFO`);
  });

  it("a state file over 1 MiB (valid JSON padded with blanks) and one over 2 GiB (sparse) are refused by size: 73", async () => {
    const padded = fresh("state");
    await mkdir(padded, { mode: 0o700 });
    const state = JSON.stringify(emptyState("myapp", path.join(w.lab.profilesDir, "myapp")));
    await writeFile(stateFileIn(padded), `${state}${" ".repeat(2 * 1024 ** 2)}\n`, { mode: 0o600 });
    const sparse = fresh("state");
    await mkdir(sparse, { mode: 0o700 });
    await writeFile(stateFileIn(sparse), "", { mode: 0o600 });
    await truncate(stateFileIn(sparse), 3 * 1024 ** 3);
    for (const stateDir of [padded, sparse]) {
      assertEnded(await run([...w.gateArgs("myapp"), "--oneshot", "--state-dir", stateDir]), 73, stateFileIn(stateDir), /larger than 1 MiB/);
    }
  });

  it("a config file over 4 MiB (valid JSON padded with blanks) is refused by size: 64", async () => {
    const config = fresh("hail.json");
    const body = JSON.stringify({ stateDir: fresh("state"), targets: [{ profile: "myapp", gateJob: w.gateUrl, constituent: "myapp" }] });
    await writeFile(config, `${body}${" ".repeat(5 * 1024 ** 2)}\n`);
    assertEnded(await run(["plan", "--config", config, "--profiles-dir", w.lab.profilesDir]), 64, `--config ${config}: refused: it is larger than 4 MiB`);
  });
});
