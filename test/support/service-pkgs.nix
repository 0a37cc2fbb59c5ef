# A stand-in for the part of nixpkgs that mkServiceProfile uses, buildable with nix-build and
# no nixpkgs: derivations with /bin/bash as builder, tools as symlinks to the host's own.
#   (import ./service-pkgs.nix { nonce = "…"; }).runCommand …
# `nonce` goes into every derivation, so that each test run builds fresh store paths.
# coreutils links only the tools the profile scripts use (not all of /usr/bin: a fake
# systemctl first on PATH must not be shadowed by the host's through the profile's PATH).
{
  nonce ? "",
}:
let
  system = builtins.currentSystem;
  runCommand =
    name: env: script:
    derivation (
      env
      // {
        inherit name system nonce;
        builder = "/bin/bash";
        args = [
          "-c"
          ("set -euo pipefail\nexport PATH=/usr/bin:/bin\n" + script)
        ];
      }
    );
  # A store path whose files are symlinks to host files: "DEST=HOSTPATH" pairs.
  hostLinks =
    name: links:
    runCommand name { inherit links; } ''
      for l in $links; do
        mkdir -p "$out/$(dirname "''${l%%=*}")"
        ln -s "''${l#*=}" "$out/''${l%%=*}"
      done
    '';
  bins = names: map (n: "bin/${n}=/usr/bin/${n}") names;
in
{
  inherit runCommand;
  runtimeShell = "/bin/bash";
  writeText = name: text: runCommand name { inherit text; } ''printf '%s' "$text" > "$out"'';
  coreutils = hostLinks "coreutils" (bins [
    "basename" "cat" "chmod" "cut" "date" "dirname" "env" "head" "id" "ln" "ls" "mkdir" "mktemp"
    "mv" "printf" "readlink" "rm" "sha256sum" "sleep" "sort" "tail" "timeout" "touch" "tr"
  ]);
  gnugrep = hostLinks "gnugrep" (bins [ "grep" ]);
  gnused = hostLinks "gnused" (bins [ "sed" ]);
  curl = hostLinks "curl" (bins [ "curl" ]);
  systemd = hostLinks "systemd" [ "lib/systemd/systemd-socket-proxyd=/lib/systemd/systemd-socket-proxyd" ];
}
