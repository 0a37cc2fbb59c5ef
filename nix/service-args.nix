# The `hail run` arguments that the NixOS module (nix/module.nix) and the Home Manager module
# (nix/home-manager-module.nix) both build from options of the same names, and systemd's
# quoting of them for ExecStart=.
rec {
  # systemd's quoting for one ExecStart= argument, as nixpkgs' utils.escapeSystemdExecArg:
  # a JSON string is a valid systemd double-quoted word, and doubling % and $ stops systemd
  # from expanding specifiers and variables. toString first, so a path given as a Nix path
  # is used where it is and never copied into the store (a netrc file holds credentials).
  escapeArg = arg: builtins.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (builtins.toJSON (toString arg));
  escapeArgs = args: builtins.concatStringsSep " " (map escapeArg args);

  flag = name: value: if value == null then [ ] else [ "--${name}" value ];

  # what to deploy from where, and how: the options both modules share
  commonArgs =
    cfg:
    [
      "--output"
      cfg.output
      "--poll-period"
      cfg.pollPeriod
      "--activate-timeout"
      cfg.activateTimeout
      "--log-level"
      cfg.logLevel
    ]
    ++ flag "gate-job" cfg.gateJob
    ++ flag "constituent" cfg.constituent
    ++ flag "job-uri" cfg.jobUri
    ++ flag "netrc-file" cfg.netrcFile
    ++ flag "hydra-user" cfg.hydraUser
    ++ flag "hydra-password-file" cfg.hydraPasswordFile
    ++ flag "health-check" cfg.healthCheck
    ++ (if cfg.rollback then [ ] else [ "--no-rollback" ])
    ++ flag "metrics-file" cfg.metricsFile
    ++ flag "metrics-listen" cfg.metricsListen
    ++ flag "rollout-window" cfg.rolloutWindow
    ++ flag "rollout-key" cfg.rolloutKey
    ++ flag "confirm-timeout" cfg.confirmTimeout
    ++ flag "poll-min-interval" cfg.pollMinInterval
    ++ (if cfg.allowDowngrade then [ "--allow-downgrade" ] else [ ]);

  # what both modules refuse in those options; `where` names the option set in the message
  # ("services.hail" or "services.hail.instances.<name>")
  commonAssertions = where: cfg: [
    {
      assertion = (cfg.gateJob == null) != (cfg.jobUri == null);
      message = "${where}: set exactly one of gateJob and jobUri.";
    }
    {
      assertion = (cfg.gateJob == null) == (cfg.constituent == null);
      message = "${where}: constituent goes with gateJob, and gateJob needs it.";
    }
    {
      assertion = (cfg.hydraUser == null) == (cfg.hydraPasswordFile == null);
      message = "${where}: hydraUser and hydraPasswordFile go together.";
    }
  ];
}
