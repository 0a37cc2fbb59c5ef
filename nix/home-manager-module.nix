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
  common = import ./service-options.nix lib;

  # escapeArgs (systemd's quoting, which it explains), flag and the flags both modules share
  inherit (import ./service-args.nix) escapeArgs flag commonArgs commonAssertions;

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
  # the options behind commonArgs, declared once for both modules (nix/service-options.nix)
  options.services.hail = common // {
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

    constituent = common.constituent // {
      description = "The constituent job of the gate to deploy: the home configuration's `activationPackage`.";
    };
    profile = str ''
      The profile to switch. Default (null): Home Manager's own,
      `$XDG_STATE_HOME/nix/profiles/home-manager`, which its `activate` expects.
    '';
    stateDir = str "State and lock files. Default (null): `$XDG_STATE_HOME/hail`.";
    backupFileExtension = str ''
      HOME_MANAGER_BACKUP_EXT for the generation's `activate`: a file in the way of a link is
      moved aside with this extension instead of failing the activation.
    '';
  };

  config = mkIf cfg.enable {
    assertions = commonAssertions "services.hail" cfg;

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
