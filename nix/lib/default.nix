# hail's Nix library: the flake output `lib`, and without flakes
# `(import ./nix/lib).mkServiceProfile { pkgs, name, services, … }`. A plain attribute set,
# so it needs no nixpkgs of its own: everything it builds comes from the `pkgs` it is given.
{ mkServiceProfile = import ./service-profile.nix; }
