# Home Manager module: services.hail, hail as a systemd USER service (`hail.service`) that
# keeps this user's Home Manager generation at the newest good build of a Hydra release gate
# (`hail run --home-manager`: docs/home-manager.md).
#
#   services.hail = {
#     enable = true;
#     gateJob = "https://hydra.example.org/job/myproject/main/release_gate";
#     constituent = "myapp"; # homeConfigurations.alice.activationPackage
#     netrcFile = "/home/alice/.config/hail/netrc";
#     backupFileExtension = "hm-backup";
#   };
#
# The profile defaults to Home Manager's own ($XDG_STATE_HOME/nix/profiles/home-manager) and
# the state to $XDG_STATE_HOME/hail: hail picks both for a user that is not root. The options
# are those of the NixOS module (nix/module.nix) that make sense for one user's generation.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    mkEnableOption
    mkIf
    mkOption
    types
    ;

  cfg = config.services.hail;

  # escapeArgs (systemd's quoting, which it explains), flag and the flags both modules share
  inherit (import ./service-args.nix) escapeArgs flag commonArgs;

  # one Environment= assignment, quoted (a value may hold spaces) and with % doubled
  envEntry = text: builtins.replaceStrings [ "%" ] [ "%%" ] (builtins.toJSON text);

  args =
    [
      "run"
      "--home-manager"
    ]
    ++ flag "profile" cfg.profile
    ++ flag "state-dir" cfg.stateDir
    ++ commonArgs cfg
    ++ cfg.extraArgs;

  str = description: mkOption {
    type = types.nullOr types.str;
    default = null;
    inherit description;
  };
in
{
  options.services.hail = {
    enable = mkEnableOption "hail, pull-based deployment of this user's Home Manager generation from Hydra";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = "The hail package.";
    };
    nixPackage = mkOption {
      type = types.package;
      default = pkgs.nix;
      defaultText = lib.literalExpression "pkgs.nix";
      description = "The Nix whose nix-store and nix-env hail runs (a user service has no system PATH).";
    };

    gateJob = str "Hydra job URL of an aggregate release gate; needs `constituent`.";
    constituent = str "The constituent job of the gate to deploy: the home configuration's `activationPackage`.";
    jobUri = str "A plain Hydra job whose latest build is deployed (instead of `gateJob`).";
    profile = str ''
      The profile to switch. Default (null): Home Manager's own,
      `$XDG_STATE_HOME/nix/profiles/home-manager`, which its `activate` expects.
    '';
    stateDir = str "State and lock files. Default (null): `$XDG_STATE_HOME/hail`.";
    output = mkOption {
      type = types.str;
      default = "out";
      description = "Which output of the build to deploy.";
    };
    pollPeriod = mkOption {
      type = types.str;
      default = "5m";
      description = "Poll period: `30s`, `5m`, `1h`; a bare number means minutes.";
    };
    activateTimeout = mkOption {
      type = types.str;
      default = "10m";
      description = "An activation running longer is killed and counts as failed (TimeoutStopSec, 25min, assumes the default).";
    };
    healthCheck = str "Command run after a successful activation (split into words, no shell).";
    rollback = mkOption {
      type = types.bool;
      default = true;
      description = "On a failed deployment, return the profile to the previous generation and activate it again.";
    };
    netrcFile = str ''
      HTTP Basic credentials for the Hydra host, as a path on the machine (a string, not a Nix
      path literal: a store path would be world-readable).
    '';
    hydraUser = str "Log in to a private Hydra as this user (with `hydraPasswordFile`).";
    hydraPasswordFile = str "File holding the Hydra password, as a path on the machine (not a Nix path literal).";
    metricsFile = str "Write Prometheus metrics here after every pass.";
    metricsListen = str "Serve /metrics, /healthz and POST /poll on HOST:PORT.";
    rolloutWindow = str "Staged rollout: deploy a new gate build only after its stop time plus a host-specific share of this window.";
    rolloutKey = str "The key hashed for the staged rollout (default: the host name).";
    confirmTimeout = str "After a successful activation hail must reach Hydra again within this time, or it rolls back.";
    pollMinInterval = str "POST /poll and SIGUSR1 start at most one extra pass per this interval (hail's default: 10s).";
    allowDowngrade = mkOption {
      type = types.bool;
      default = false;
      description = "Follow Hydra when it offers an older gate build than the one hail last deployed.";
    };
    backupFileExtension = str ''
      HOME_MANAGER_BACKUP_EXT for the generation's `activate`: a file in the way of a link is
      moved aside with this extension instead of failing the activation.
    '';
    logLevel = mkOption {
      type = types.enum [
        "debug"
        "info"
        "warn"
        "error"
      ];
      default = "info";
      description = "Log level; logs go to the user journal as JSON lines.";
    };
    extraArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "More arguments for `hail run`, one list element per argument.";
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = (cfg.gateJob == null) != (cfg.jobUri == null);
        message = "services.hail: set exactly one of gateJob and jobUri.";
      }
      {
        assertion = (cfg.gateJob == null) == (cfg.constituent == null);
        message = "services.hail: constituent goes with gateJob, and gateJob needs it.";
      }
      {
        assertion = (cfg.hydraUser == null) == (cfg.hydraPasswordFile == null);
        message = "services.hail: hydraUser and hydraPasswordFile go together.";
      }
    ];

    systemd.user.services.hail = {
      Unit = {
        Description = "hail: deploy this user's Home Manager generation from Hydra";
        After = [ "network-online.target" ];
        # The activation hail runs switches this user's units, this one among them. A restart
        # would stop hail while hail waits for that activation, and the activation for the
        # restart: Home Manager keeps the running hail (sd-switch's keep-old; X-RestartIfChanged
        # for its older switcher), and a changed hail takes over at the next login or restart.
        X-SwitchMethod = "keep-old";
        X-RestartIfChanged = false;
      };
      Service = {
        Type = "simple";
        ExecStart = "${cfg.package}/bin/hail-daemon ${escapeArgs args}";
        ExecReload = "${pkgs.coreutils}/bin/kill -USR1 $MAINPID";
        Environment =
          [ (envEntry "PATH=${cfg.nixPackage}/bin:${pkgs.coreutils}/bin") ]
          ++ lib.optional (cfg.backupFileExtension != null) (envEntry "HOME_MANAGER_BACKUP_EXT=${cfg.backupFileExtension}");
        Restart = "on-failure";
        RestartSec = "30s";
        RestartPreventExitStatus = 64;
        KillSignal = "SIGTERM";
        KillMode = "mixed";
        TimeoutStopSec = "25min";
      };
      Install.WantedBy = [ "default.target" ];
    };
  };
}
