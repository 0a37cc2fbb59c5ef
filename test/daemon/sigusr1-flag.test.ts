import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { sigusr1Disabled, sigusr1DisabledWarning } from "../../src/daemon/signals.js";

/** [NODE_OPTIONS, node's own options, whether --disable-sigusr1 is in effect] */
const CASES: Array<[string | undefined, string[], boolean]> = [
  [undefined, [], false],
  [undefined, ["--disable-sigusr1"], true],
  [undefined, ["--max-old-space-size=128", "--disable-sigusr1", "--optimize-for-size"], true],
  [undefined, ["--disable_sigusr1"], true],
  [undefined, ["--disable-sigusr1=true"], true],
  [undefined, ["--disable-sigusr1", "--no-disable-sigusr1"], false],
  [undefined, ["--no-disable-sigusr1"], false],
  ["--disable-sigusr1", [], true],
  ["  --max-old-space-size=128   --disable-sigusr1 ", [], true],
  ['"--disable-sigusr1"', [], true],
  ["--title=\"a --disable-sigusr1 b\"", [], false],
  ["--no-disable-sigusr1", ["--disable-sigusr1"], true],
  ["--disable-sigusr1", ["--no-disable-sigusr1"], false],
  ["--disable-sigusr1-not", [], false],
];

describe("sigusr1Disabled", () => {
  it("reads node's options and NODE_OPTIONS, the last mention winning", () => {
    for (const [nodeOptions, execArgv, expected] of CASES) {
      assert.equal(sigusr1Disabled(execArgv, nodeOptions), expected, `NODE_OPTIONS=${nodeOptions ?? "(unset)"} node ${execArgv.join(" ")}`);
    }
  });

  // Node 24 blocks SIGUSR1 under the flag (Linux: /proc shows it): a listener never runs. The rule above must say
  // "disabled" exactly when the node running this test swallows the signal.
  it("agrees with the node that runs this test: disabled exactly when a SIGUSR1 listener never runs", { skip: !nodeHasFlag() || process.platform !== "linux" }, () => {
    for (const [nodeOptions, execArgv, expected] of CASES) {
      if (execArgv.includes("--disable-sigusr1-not") || nodeOptions?.includes("--disable-sigusr1-not")) continue; // node refuses an unknown option
      assert.equal(!listenerRuns(nodeOptions, execArgv), expected, `NODE_OPTIONS=${nodeOptions ?? "(unset)"} node ${execArgv.join(" ")}`);
    }
  });

  it("the warning says what is lost, on which node, and the two ways out", () => {
    const text = sigusr1DisabledWarning("24.21.0");
    for (const part of ["node 24.21.0", "--disable-sigusr1", "NODE_OPTIONS", "systemctl reload", "POST /poll", "--metrics-listen", "bin/hail-daemon", "hail@.service"]) {
      assert.ok(text.includes(part), `${part} in: ${text}`);
    }
  });
});

function nodeHasFlag(): boolean {
  return spawnSync(process.execPath, ["--disable-sigusr1", "-e", "0"]).status === 0;
}

/**
 * A node that sends itself SIGUSR1 with a listener installed: does the listener run? No
 * waiting for an absence: an unblocked SIGUSR1 is delivered before kill() returns to its
 * sender, so a signal still pending right after it is one every thread blocks, which no
 * listener ever sees; otherwise the listener's run is the event waited for (an interval keeps
 * node alive until then, as signal listeners do not).
 */
function listenerRuns(nodeOptions: string | undefined, execArgv: string[]): boolean {
  const script = String.raw`
    setInterval(() => {}, 1 << 30);
    process.on("SIGUSR1", () => { console.log("heard"); process.exit(0); });
    process.kill(process.pid, "SIGUSR1");
    const status = require("node:fs").readFileSync("/proc/self/status", "utf8");
    const usr1 = (key) => (BigInt("0x" + new RegExp("^" + key + ":\\s*(\\w+)", "m").exec(status)[1]) >> 9n) & 1n;
    if (usr1("ShdPnd") || usr1("SigPnd")) { console.log("pending"); process.exit(0); }
  `;
  const { NODE_OPTIONS: _unset, ...env } = process.env;
  const run = spawnSync(process.execPath, [...execArgv, "-e", script], { encoding: "utf8", env: nodeOptions === undefined ? env : { ...env, NODE_OPTIONS: nodeOptions } });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^(heard|pending)\n$/);
  return run.stdout === "heard\n";
}
