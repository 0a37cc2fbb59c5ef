// Service profiles deployed by hail into a REAL systemd (issue 28 point 6): one container booted
// with systemd-nspawn for the whole file, the built hail run INSIDE it (nsenter), so each
// profile's bin/activate talks to that systemd as on a host. The Hydra test server and the
// file:// binary cache are the host's (shared network namespace, the lab dir bound at its path).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HAIL_BIN } from "../support/cli.js";
import { freePort } from "../support/free-port.js";
import { bootSystemdContainer, CONTAINER_PATH, MASKED_UNITS, type ExecResult, type SystemdContainer } from "../support/systemd-container.js";
import { createWorld, greenGate, waitUntil, type World } from "./world.js";

const DAEMON_SOCKET = "/nix/var/nix/daemon-socket/socket";

describe("hail deploys service profiles into a real systemd (systemd-nspawn)", () => {
  let w: World;
  let box: SystemdContainer | undefined;
  let hailDir: string;
  let socketBefore: boolean;
  let gateId = 100;

  before(async () => {
    socketBefore = existsSync(DAEMON_SOCKET);
    w = await createWorld();
    // node and the bundle where the container sees them: the checkout may not be bound in
    hailDir = path.join(w.lab.root, "hail-bin");
    await mkdir(hailDir);
    await copyFile(process.execPath, path.join(hailDir, "node"));
    await chmod(path.join(hailDir, "node"), 0o755);
    await copyFile(HAIL_BIN, path.join(hailDir, "hail.mjs"));
    box = await bootSystemdContainer({ binds: [w.lab.root] });
  });
  after(async () => {
    await box?.poweroff();
    await w.close();
  });

  const container = () => {
    if (box === undefined) throw new Error("the container did not boot");
    return box;
  };

  /** The built hail, run inside the container with the lab's Nix environment. */
  function hailInside(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<ExecResult> {
    const { NODE_TEST_CONTEXT: _ignored, ...env } = w.env;
    return container().exec([path.join(hailDir, "node"), path.join(hailDir, "hail.mjs"), ...args], { env: { ...env, PATH: CONTAINER_PATH, ...extraEnv }, timeoutMs: 300_000 });
  }

  /** Publishes `storePath` as the myapp constituent of a new green gate build. */
  async function release(storePath: string): Promise<number> {
    await w.lab.publish(storePath);
    await w.lab.deleteLocal(storePath);
    gateId += 100;
    for (const b of greenGate(gateId, gateId / 10, storePath)) w.hydra.addBuild(b);
    return gateId;
  }

  const deploy = (profile = "myapp", extraEnv: NodeJS.ProcessEnv = {}) => hailInside([...w.gateArgs(profile), "--oneshot"], extraEnv);

  async function httpText(url: string): Promise<string | null> {
    try {
      const res = await fetch(url);
      return res.ok ? await res.text() : null;
    } catch {
      return null;
    }
  }

  it("boots a systemd that starts none of the host's port-taking services nor a nix-daemon socket", async () => {
    const state = await container().systemctl("is-system-running");
    assert.match(state.stdout.trim(), /^(running|degraded)$/);
    const loaded = await container().systemctl("list-units", "--all", "--no-legend", "--plain", ...MASKED_UNITS);
    for (const line of loaded.stdout.split("\n").filter(Boolean)) {
      assert.doesNotMatch(line, /\sactive\s/, `a masked host unit is active in the container: ${line}`);
    }
    assert.equal(existsSync(DAEMON_SOCKET), socketBefore, `${DAEMON_SOCKET} appeared in the shared /nix`);
  });

  it("smoke: hail inside realises a plain profile from the host's cache; its activate starts a unit that serves on 127.0.0.1", async () => {
    const port = await freePort();
    const activate = [
      "cat > /run/systemd/system/hail-smoke.service <<EOF",
      "[Service]",
      `ExecStart=/usr/bin/python3 -m http.server ${port} --bind 127.0.0.1 --directory $out`,
      "EOF",
      "systemctl daemon-reload",
      "systemctl restart hail-smoke.service",
    ].join("\n");
    const app = await w.lab.buildApp("myapp", "smoke-1", { activate });
    await release(app);
    const r = await deploy("smoke");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await w.profileTarget("smoke"), app);
    assert.equal((await container().systemctl("is-active", "hail-smoke.service")).stdout.trim(), "active");
    await waitUntil(async () => (await httpText(`http://127.0.0.1:${port}/version`)) === "smoke-1\n", "the smoke unit to serve its version");
    const stop = await container().systemctl("stop", "hail-smoke.service");
    assert.equal(stop.code, 0, stop.stderr);
  });
});
