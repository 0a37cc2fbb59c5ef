# The host side on NixOS: a module for the host's configuration, next to hail's own. Copy it
# next to the host's flake.nix as myapp.nix; in that flake (hail as an input, with
# `hail.inputs.nixpkgs.follows = "nixpkgs"`):
#   modules = [ ./configuration.nix hail.nixosModules.default ./myapp.nix ];
# This makes hail-myapp.service, which follows the release gate and deploys its `myapp`
# constituent to the profile /nix/var/nix/profiles/myapp.
{ ... }:
{
  services.hail = {
    enable = true;
    instances.myapp = {
      gateJob = "https://hydra.example.org/job/myproject/main/release_gate";
      constituent = "myapp";
      # healthCheck, pollPeriod, netrcFile …: hail's docs/install.md#nixos
    };
  };
}
