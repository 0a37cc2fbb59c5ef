# The options behind commonArgs (nix/service-args.nix), declared once for the NixOS module's
# instances (nix/module.nix) and the Home Manager module (nix/home-manager-module.nix): the
# same name, type, default and meaning in both, so a flag added to commonArgs is declared in
# one place. A module overrides a description only where its service differs.
lib:
let
  inherit (lib) mkOption types;
  # an option hail leaves out of the command line while it is null
  optional =
    description: extra:
    mkOption (
      {
        type = types.nullOr types.str;
        default = null;
        inherit description;
      }
      // extra
    );
in
{
  gateJob = optional "Hydra job URL of an aggregate release gate; needs `constituent`." {
    example = "https://hydra.example/job/proj/main/release_gate";
  };
  constituent = optional "The constituent job of the gate to deploy." { example = "myapp"; };
  jobUri = optional "A plain Hydra job whose latest build is deployed (instead of `gateJob`)." {
    example = "https://hydra.example/job/proj/main/myapp";
  };
  output = mkOption {
    type = types.str;
    default = "out";
    description = "Which output of the build to deploy.";
  };
  pollPeriod = mkOption {
    type = types.str;
    default = "5m";
    example = "30s";
    description = "Poll period: `30s`, `5m`, `1h`; a bare number means minutes.";
  };
  activateTimeout = mkOption {
    type = types.str;
    default = "10m";
    description = ''
      An activation running longer is killed and counts as failed. The service's
      TimeoutStopSec (25min) assumes the default; raise both together.
    '';
  };
  healthCheck = optional "Command run after a successful activation (split into words, no shell)." {
    example = "curl -fsS http://127.0.0.1:8080/health";
  };
  rollback = mkOption {
    type = types.bool;
    default = true;
    description = "On a failed deployment, return the profile to the previous generation and activate it again.";
  };
  netrcFile = optional ''
    HTTP Basic credentials for the Hydra host, as a path on the machine (a string, not
    a Nix path literal: a store path would be world-readable). Without it hail reads
    /etc/netrc when that exists.
  '' { example = "/run/keys/hydra-netrc"; };
  hydraUser = optional "Log in to a private Hydra as this user (with `hydraPasswordFile`)." { };
  hydraPasswordFile = optional "File holding the Hydra password, as a path on the machine (not a Nix path literal)." {
    example = "/run/keys/hydra-password";
  };
  metricsFile = optional "Write Prometheus metrics here after every pass (node_exporter textfile collector)." {
    example = "/var/lib/prometheus-node-exporter-text/hail-myapp.prom";
  };
  metricsListen = optional "Serve /metrics, /healthz and POST /poll on HOST:PORT." { example = "127.0.0.1:9465"; };
  rolloutWindow = optional "Staged rollout: deploy a new gate build only after its stop time plus a host-specific share of this window." {
    example = "2h";
  };
  rolloutKey = optional "The key hashed for the staged rollout (default: the host name)." { };
  confirmTimeout = optional "After a successful activation hail must reach Hydra again within this time, or it rolls the deployment back." {
    example = "5m";
  };
  pollMinInterval = optional "POST /poll and SIGUSR1 start at most one extra pass per this interval (hail's default: 10s)." {
    example = "30s";
  };
  allowDowngrade = mkOption {
    type = types.bool;
    default = false;
    description = ''
      Follow Hydra when it offers an older gate build than the one hail last deployed
      (by default hail never deploys backwards: a restarted build in Hydra's newest
      evaluation moves `latest-finished` back until it finishes).
    '';
  };
  logLevel = mkOption {
    type = types.enum [
      "debug"
      "info"
      "warn"
      "error"
    ];
    default = "info";
    description = "Log level; logs go to the journal as JSON lines.";
  };
  extraArgs = mkOption {
    type = types.listOf types.str;
    default = [ ];
    example = [
      "--timeout"
      "1m"
    ];
    description = "More arguments for `hail run`, one list element per argument.";
  };
}
