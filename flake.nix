{
  description = "hail: pull-based continuous deployment for Nix from Hydra release gates";

  # nixos-26.05: a supported release with nodejs_24 (Node.js 24 LTS), importNpmLock and
  # lib.fileset. Its Node.js 20 is end of life (marked insecure; removed on unstable), so
  # nothing here takes it. No flake.lock is committed: writing one needs the network, and a
  # made-up one would be worse than none; `nix flake lock` writes it on first use.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        hail = pkgs.callPackage ./nix/package.nix { };
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.hail;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.stdenv.hostPlatform.system}.hail}/bin/hail";
        };
      });

      overlays.default = final: _prev: { hail = final.callPackage ./nix/package.nix { }; };

      # services.hail; its package defaults to this flake's build for the host's system.
      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.hail.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.hail;
        };
      nixosModules.hail = self.nixosModules.default;

      # services.hail for Home Manager: a systemd user service deploying the user's own Home
      # Manager generation (`hail run --home-manager`, docs/home-manager.md).
      homeManagerModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/home-manager-module.nix ];
          services.hail.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.hail;
        };
      homeManagerModules.hail = self.homeManagerModules.default;

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          # systemd-analyze for test/packaging/systemd.test.ts (Linux only)
          packages = [
            pkgs.nodejs_24
            pkgs.nix
          ] ++ pkgs.lib.optional pkgs.stdenv.hostPlatform.isLinux pkgs.systemd;
        };
      });

      # A NixOS VM test: a machine with hail (nixos = true) deploys a new system from a tiny
      # Hydra stand-in. Linux with KVM only; it has not been run where hail is developed (see
      # the README), where the packaging tests only parse it.
      checks = nixpkgs.lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (system: {
        nixos-deploy = nixpkgs.legacyPackages.${system}.testers.runNixOSTest (import ./nix/tests/nixos-deploy.nix { inherit self; });
      });

      # mkServiceProfile: systemd services as a hail profile (docs/services.md). A plain
      # attribute set of functions, the same as `import ./nix/lib` without flakes; it takes
      # everything it builds with from the `pkgs` it is given, so it needs no system here.
      lib = import ./nix/lib;

      # `nix flake init -t <hail>#service`: an app, its test, its service profile and the
      # release gate as Hydra jobs, and the host side (docs/services.md).
      templates.service = {
        path = ./nix/templates/service;
        description = "An app deployed by hail as systemd services: hydraJobs with a release gate, and the host side";
      };
      templates.default = self.templates.service;

      # nixfmt (RFC 166 style); nixfmt-rfc-style is only a warning alias of it since 25.11
      formatter = forAllSystems (pkgs: pkgs.nixfmt);
    };
}
