# A host's flake that deploys with hail: nixos-rebuild switch --flake .#web1
#
# hail's flake follows the host's nixpkgs, so hail is built with the same Node.js 24 as the
# rest of the system. test/packaging/nix-files.test.ts evaluates this very file (with both
# URLs pointed at local stand-ins).
{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    # Where this repository is checked out on the host (or `path:/srv/src/hail`). hail is
    # not published: once it is, its public URL goes here instead.
    hail.url = "git+file:///srv/src/hail";
    hail.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs =
    { nixpkgs, hail, ... }:
    {
      nixosConfigurations.web1 = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [
          ./configuration.nix # the host's own configuration
          hail.nixosModules.default
          {
            services.hail = {
              enable = true;
              # one instance per deployed profile: hail-myapp.service
              instances.myapp = {
                gateJob = "https://hydra.example.org/job/proj/main/release_gate";
                constituent = "myapp";
                netrcFile = "/run/keys/hydra-netrc";
              };
              # the whole machine: a constituent that is this host's system.build.toplevel
              instances.system = {
                gateJob = "https://hydra.example.org/job/infra/main/release_gate";
                constituent = "web1";
                nixos = true;
                rebootWindow = "02:00-04:00";
              };
            };
          }
        ];
      };
    };
}
