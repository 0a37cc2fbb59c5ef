# ./default.nix as a flake with nixpkgs' outputs (lib, legacyPackages), so a host flake can
# take it as its `nixpkgs` input offline (a `path:` input).
{
  outputs =
    { self }:
    let
      stub = import ./default.nix;
    in
    {
      inherit (stub) lib;
      legacyPackages = stub.lib.genAttrs [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ] (system: stub.pkgsFor { inherit system; });
    };
}
