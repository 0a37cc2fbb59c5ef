// build: What the reference says of an option beyond its --help line: its default and the details a
// reader needs.
import type { OptionName } from "../cli/option-table.js";

/**
 * What docs/reference/cli.md says about an option beyond its --help line: the default when
 * it is not a plain value, and the details a reader of the reference needs (limits, what is
 * refused, links). Markdown; links are relative to docs/reference/.
 */
export interface OptionDocs {
  /** the default column when the row has no `default`, or says it better */
  readonly default?: string;
  readonly details?: string;
}

export const OPTION_DOCS: Partial<Record<OptionName, OptionDocs>> = {
  profile: { default: "required", details: "A name may nest (`hail/myapp`); empty segments and `..` are refused." },
  output: {
    details: "An empty name, one with characters a Nix output name cannot have, or a name every object has (`toString`, `__proto__`) is a usage error.",
  },
  netrcFile: {
    default: "`/etc/netrc` when it exists",
    details:
      "For a proxy in front of Hydra. `machine` matches the host name, `default` is honoured. An explicit file that is missing or unreadable is a usage error; an unreadable default file is skipped with a warning.",
  },
  hydraUser: { details: "hail logs in (`POST /login`), keeps the session cookie in memory, and logs in again once on a 403." },
  timeout: { details: "The whole request: connection, headers and body (a bare number means seconds); at most 7 days." },
  pollPeriod: { details: "`30s`, `5m`, `1h`, `1h30m`; at most 7 days." },
  pollMinInterval: { details: "A request while one is pending (not yet started) is absorbed, the excess is refused (429) and counted; at most 7 days." },
  stateDir: { default: "`/var/lib/hail` as root, `$XDG_STATE_HOME/hail` (`~/.local/state/hail`) for another user" },
  homeManager: {
    default: "off",
    details:
      "hail checks the generation is one (`activate` and `home-path`), switches `--profile` (default `$XDG_STATE_HOME/nix/profiles/home-manager`) and runs its `activate` ([Home Manager](../home-manager.md)); not with `--nixos`.",
  },
  oneshot: { default: "off", details: "See [Exit codes](exit-codes.md)." },
  startSpread: {
    default: "spread on",
    details: "By default a daemon spreads its first poll over the poll period, so that a fleet restarted at once does not hit Hydra in step.",
  },
  activateTimeout: { details: "Also a health check and a hook: the whole process group is killed and the attempt counts as failed; at most 7 days." },
  healthCheck: { details: "A non-zero exit or a timeout (`--activate-timeout`) fails it." },
  rollback: { default: "rollback on" },
  metricsFile: { details: "Written atomically." },
  metricsListen: { default: "off", details: "`:PORT` or `PORT` binds 127.0.0.1." },
  logFormat: { default: "pretty on a TTY, json otherwise", details: "Log lines go to stderr." },
  rolloutWindow: { details: "See [staged rollout](../fleet.md#staged-rollout); at most 365 days." },
  rolloutKey: { default: "host name" },
  allowDowngrade: { default: "off", details: "Else hail [never goes backwards](../how-it-works.md#how-hail-reads-hydra), for a gate or a plain job." },
  minFree: { details: "`500MiB`, `2G`; `0` skips the check." },
  keepGenerations: { default: "keep all", details: "Never the current generation or the rollback target." },
  onSuccess: {
    details:
      "`HAIL_RESULT` is `success` or `failed`. A failing or hanging hook (this one or `--on-failure`) is logged and counted (`hail_hook_failures_total`), and never changes the result.",
  },
  nixos: {
    default: "off",
    details: "hail checks the output is a NixOS system; see [Deploying a NixOS system](../nixos-systems.md#deploying-a-nixos-system).",
  },
  nixosAction: { default: "`switch`", details: "Switch now, or only make it the boot default." },
  rebootWindow: { default: "off", details: "On a kernel, initrd or kernel-modules change; the window may wrap midnight." },
  rebootCommand: { default: "`systemctl reboot`", details: "Split into words, run without a shell." },
  bootedSystem: { default: "`/run/booted-system`" },
  confirmTimeout: {
    default: "off",
    details: "After a successful activation and health check; else hail rolls back and marks the build failed (any mode; at most 7 days).",
  },
  config: { details: "See [Config file](config.md)." },
  format: { default: "`text`", details: "`markdown` prints a table (target, current, offered, action, download) for a CI job summary." },
  json: { details: "On stdout." },
  until: {
    default: "forever",
    details: "`2h`, or `2027-06-01T08:00:00Z`; at most 365 days ahead, and a date that does not exist (`2027-02-30`) is refused, not rolled over.",
  },
};
