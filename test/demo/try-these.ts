// The "try these" block that `npm run hydra` and `npm run demo -- --keep` print: a shell
// script a newcomer pastes into another terminal, line by line or all at once. It is the
// only place that spells these commands, and test/demo/hydra-by-hand.test.ts runs them in a
// real bash, so they cannot drift from the product.
import path from "node:path";
import { HAIL_BIN } from "../support/cli.js";
import type { NixLab } from "../support/nix-lab.js";
import { ACTIONS, METRICS_LISTEN } from "./world-control.js";

export interface TryWorld {
  hydraUrl: string;
  /** the NIX_CONFIG of every Nix command hail runs: the served cache and its key */
  nixConfig: string;
  /** HOME for hail's Nix commands (nix-env writes ~/.nix-defexpr, Nix caches under ~/.cache) */
  home: string;
  profilesDir: string;
  stateDir: string;
}

/** The lab's dirs, as the demo and the stand-in use them (state under the lab's root). */
export function tryWorldOf(lab: NixLab, hydraUrl: string): TryWorld {
  return {
    hydraUrl, nixConfig: lab.envFor(hydraUrl)["NIX_CONFIG"] ?? "", home: path.join(lab.root, "home"),
    profilesDir: lab.profilesDir, stateDir: path.join(lab.root, "state"),
  };
}

/** The block's last line: a test waits for it before it runs the commands above it. */
export const READY_LINE = "The stand-in Hydra runs until Ctrl-C (then it removes everything above).";

/** One shell word: as is when it is plain, else in single quotes (which keep newlines too). */
function quote(words: string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(" ");
}

export function tryTheseBlock(w: TryWorld, opts: { prompt: boolean }): string {
  const gate = `${w.hydraUrl}/job/myproject/main/release_gate`;
  const dirs = `--profiles-dir ${quote([w.profilesDir])} --state-dir ${quote([w.stateDir])}`;
  const target = `--gate-job ${quote([gate])} --constituent myapp --profile myapp ${dirs}`;
  const hail = `HOME=${quote([w.home])} XDG_CACHE_HOME=${quote([`${w.home}/.cache`])} ${quote([process.execPath, HAIL_BIN])}`;
  const control = Object.entries(ACTIONS).map(([action, a]) =>
    `curl -X POST ${w.hydraUrl}/_control/${action}    # ${a.what}${opts.prompt ? ` (or type: ${a.word})` : ""}`);
  return [
    "# ---- try these, in another terminal (a shell script: paste it whole or line by line) ----",
    "# Nix takes paths from the stand-in Hydra's binary cache only, signed with its key",
    "# (on a real host, substituters and trusted-public-keys live in nix.conf):",
    `export NIX_CONFIG=${quote([w.nixConfig])}`,
    "# hail as built here (installed, it is just `hail`), with Nix's caches in the temp dir:",
    `alias hail=${quote([hail])}`,
    "",
    "# what would hail deploy? (reads Hydra, changes nothing)",
    `hail plan ${target}`,
    "# deploy once, then exit (0 deployed or up to date, 1 failed and rolled back)",
    `hail run ${target} --oneshot`,
    "# what is deployed, from which build; then pause and resume deployments",
    `hail status myapp ${dirs}`,
    `hail hold myapp --reason 'trying hold' ${dirs}`,
    `hail release myapp ${dirs}`,
    "# a daemon polling every 15s, with /metrics, /healthz and POST /poll (Ctrl-C stops it;",
    "# while it runs it holds the profile's lock: a one-shot on myapp exits 75, locked)",
    `hail run ${target} --poll-period 15s --metrics-listen ${METRICS_LISTEN}`,
    `curl http://${METRICS_LISTEN}/healthz`,
    `curl -s http://${METRICS_LISTEN}/metrics | grep ^hail_`,
    "",
    "# change the world, then watch the daemon (or run the one-shot again):",
    ...control,
    "# ---- end ----",
    READY_LINE,
  ].join("\n");
}
