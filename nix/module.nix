# NixOS module: services.hail, one systemd service `hail-<name>` per instance.
#
#   services.hail = {
#     enable = true;
#     instances.myapp = {
#       gateJob = "https://hydra.example/job/proj/main/release_gate";
#       constituent = "myapp";
#       netrcFile = "/run/keys/hydra-netrc";
#       metricsFile = "/var/lib/prometheus-node-exporter-text/hail-myapp.prom";
#     };
#     # the whole machine: a gate constituent that is nixosConfigurations.HOST's toplevel
#     instances.system = {
#       gateJob = "https://hydra.example/job/infra/main/release_gate";
#       constituent = "host-web1";
#       nixos = true; # profile "system", no sandbox, not restarted by its own switch
#       rebootWindow = "02:00-04:00";
#       confirmTimeout = "5m";
#     };
#   };
#
# The services are the daemon of nix/systemd/hail@.service with the same restart, stop and
# hardening settings; that file explains each of them.
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

  argsOf =
    inst:
    [
      "run"
      "--profile"
      inst.profile
      "--state-dir"
      inst.stateDir
    ]
    ++ commonArgs inst
    ++ flag "release-manifest" inst.releaseManifest
    ++ flag "allowed-signers" (allowedSignersFile inst)
    ++ (if inst.allowInsecureHttp then [ "--allow-insecure-http" ] else [ ])
    ++ nixosArgsOf inst
    ++ inst.extraArgs;

  # allowedSigners: a file on the machine (an absolute path), used where it is; anything else
  # is the allowed_signers lines themselves, written to the store (public keys, no secret).
  allowedSignersFile =
    inst:
    let
      v = inst.allowedSigners;
    in
    if v == null then
      null
    else if builtins.match "/[^\n]*" v != null then
      v
    else
      pkgs.writeText "hail-${builtins.replaceStrings [ "/" ] [ "-" ] inst.profile}-allowed-signers" v;

  nixosArgsOf =
    inst:
    if !inst.nixos then
      [ ]
    else
      [
        "--nixos"
        "--nixos-action"
        inst.nixosAction
      ]
      ++ flag "reboot-window" inst.rebootWindow
      ++ flag "reboot-command" inst.rebootCommand;

  # What hail@.service sets, for the same reasons (each is explained there). `sandbox = false`
  # drops these for an instance whose activation needs the whole system (a NixOS system
  # profile's switch-to-configuration, an activation that writes /etc or /home).
  hardening = {
    NoNewPrivileges = true;
    ProtectSystem = "full";
    ProtectHome = "read-only";
    PrivateTmp = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    LockPersonality = true;
    RestrictRealtime = true;
  };

  serviceOf = name: inst: {
    description = "hail: deploy Nix profile ${inst.profile} from Hydra";
    wantedBy = [ "multi-user.target" ];
    wants = [ "network-online.target" ];
    after = [
      "network-online.target"
      "nix-daemon.socket"
    ];
    # hail runs nix-store and nix-env; the activation inherits this PATH too (NixOS adds
    # coreutils, findutils, grep, sed and systemd). Add what your bin/activate calls by name
    # with systemd.services."hail-<name>".path.
    path = [ config.nix.package ];
    # Nix's narinfo cache would go to /root/.cache, read-only under ProtectHome.
    environment.XDG_CACHE_HOME = "/var/cache/hail";
    serviceConfig = {
      Type = "simple";
      # hail-daemon: hail with the daemon's node memory flags (nix/package.nix says why)
      ExecStart = "${cfg.package}/bin/hail-daemon ${escapeArgs (argsOf inst)}";
      ExecReload = "${pkgs.coreutils}/bin/kill -USR1 $MAINPID";
      Restart = "on-failure";
      RestartSec = "30s";
      RestartPreventExitStatus = 64;
      KillSignal = "SIGTERM";
      KillMode = "mixed";
      TimeoutStopSec = "25min";
      StateDirectory = "hail";
      StateDirectoryMode = "0750";
      CacheDirectory = "hail";
      CacheDirectoryMode = "0750";
    }
    // (if inst.sandbox && !inst.nixos then hardening else { });
  }
  // lib.optionalAttrs inst.nixos nixosServiceSettings;

  # A system deployment (`nixos = true`). switch-to-configuration writes /etc and /boot,
  # loads kernel modules and runs setuid wrappers: none of the hardening above can stay.
  # The switch it runs may change this very unit. Restarting it then would stop hail while
  # hail waits for that switch: the switch would wait for the stop and the stop for the
  # switch. So the unit is not restarted (nor stopped, if the new system drops it) by a
  # switch, as nixpkgs does for its own nixos-upgrade.service; hail also runs the switch
  # with `systemd-run --wait` outside this unit's cgroup, so a `systemctl stop` or
  # shutdown mid-switch never kills a half-done switch. A changed hail takes over at the
  # next start of the unit (the next reboot, or `systemctl restart hail-<name>`).
  nixosServiceSettings = {
    restartIfChanged = false;
    unitConfig.X-StopOnRemoval = false;
  };

  instanceOptions =
    { name, config, ... }:
    {
      # the options behind commonArgs, declared once for both modules (nix/service-options.nix)
      options = common // {
        profile = mkOption {
          type = types.str;
          default = if config.nixos then "system" else name;
          defaultText = lib.literalExpression ''if nixos then "system" else name'';
          description = ''
            The Nix profile to deploy: a name under /nix/var/nix/profiles (nested names such as
            `hail/myapp` work) or an absolute path. Defaults to the instance name, and to
            `system` (the NixOS system profile) with `nixos = true`.
          '';
        };
        nixos = mkOption {
          type = types.bool;
          default = false;
          description = ''
            The deployed output is a whole NixOS system (a `system.build.toplevel`): hail
            activates it with its `bin/switch-to-configuration` instead of `bin/activate`. The
            service then runs without the sandbox and is not restarted by its own switch.
          '';
        };
        nixosAction = mkOption {
          type = types.enum [
            "switch"
            "boot"
          ];
          default = "switch";
          description = "With `nixos`: `switch` to the new system now, or only make it the `boot` default.";
        };
        rebootWindow = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "02:00-04:00";
          description = ''
            With `nixos`: when the new system's kernel, initrd or kernel modules differ from the
            running ones, activate with `boot` and reboot inside this local-time window
            (HH:MM-HH:MM, may wrap midnight). Without it a kernel change is switched and takes
            effect at the next reboot.
          '';
        };
        rebootCommand = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "systemctl kexec";
          description = "With `rebootWindow`: how to reboot (default `systemctl reboot`; split into words, no shell).";
        };
        confirmTimeout = common.confirmTimeout // {
          description = ''
            After a successful activation hail must reach Hydra again within this time, or it
            rolls the deployment back (recommended with `nixos`: a system that breaks the
            network undoes itself).
          '';
        };
        releaseManifest = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "https://releases.example.org/myproject/myapp.json";
          description = ''
            Deploy only the gate build this signed release names (its signature at URL.sig,
            made by `hail sign`), once Hydra confirms it. Needs `allowedSigners` and `gateJob`.
          '';
        };
        allowedSigners = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = ''
            release@example.org namespaces="hail-release" ssh-ed25519 AAAAC3Nza…
          '';
          description = ''
            Who may sign releases, in OpenSSH's allowed_signers format: an absolute path of a
            file on the machine, or the lines themselves (written to the Nix store). Needs
            `releaseManifest`.
          '';
        };
        allowInsecureHttp = mkOption {
          type = types.bool;
          default = false;
          description = "Allow plain http:// URLs (gate, login, release manifest) to hosts other than loopback.";
        };
        stateDir = mkOption {
          type = types.str;
          default = "/var/lib/hail";
          description = ''
            State and lock files. The default is the service's StateDirectory; another
            directory must be writable under ProtectSystem=full (not in /etc, /usr or /boot).
          '';
        };
        sandbox = mkOption {
          type = types.bool;
          default = true;
          description = ''
            Run with the hardening of nix/systemd/hail@.service (NoNewPrivileges,
            ProtectSystem=full, ProtectHome=read-only, PrivateTmp, ...). Turn it off when the
            activation must write /etc, /boot or /home, or use setuid programs such as sudo.
          '';
        };
      };
    };
in
{
  options.services.hail = {
    enable = mkEnableOption "hail, pull-based deployment of Nix profiles from Hydra";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = "The hail package.";
    };

    instances = mkOption {
      type = types.attrsOf (types.submodule instanceOptions);
      default = { };
      description = "One hail daemon (systemd service `hail-<name>`) per instance, each deploying one profile.";
    };
  };

  config = mkIf cfg.enable {
    assertions = lib.concatLists (
      lib.mapAttrsToList (name: inst: commonAssertions "services.hail.instances.${name}" inst ++ [
        {
          assertion = inst.nixos || (inst.rebootWindow == null && inst.rebootCommand == null);
          message = "services.hail.instances.${name}: rebootWindow and rebootCommand need nixos = true.";
        }
        {
          assertion = inst.rebootCommand == null || inst.rebootWindow != null;
          message = "services.hail.instances.${name}: rebootCommand needs rebootWindow (when may hail reboot?).";
        }
        {
          assertion = (inst.releaseManifest == null) == (inst.allowedSigners == null);
          message = "services.hail.instances.${name}: releaseManifest and allowedSigners go together.";
        }
        {
          assertion = inst.releaseManifest == null || inst.gateJob != null;
          message = "services.hail.instances.${name}: releaseManifest needs gateJob (a release signs a gate build).";
        }
      ]) cfg.instances
    )
    ++ [
      {
        assertion =
          let
            profiles = lib.mapAttrsToList (_: inst: inst.profile) cfg.instances;
          in
          builtins.length profiles == builtins.length (lib.unique profiles);
        message = "services.hail.instances: two instances deploy the same profile; they would fight over its lock.";
      }
    ];

    systemd.services = lib.mapAttrs' (
      name: inst: lib.nameValuePair "hail-${name}" (serviceOf name inst)
    ) cfg.instances;
  };
}
