# mkServiceProfile: systemd services → a hail profile with bin/activate and bin/deactivate.
# The output holds units/ (every unit file, flat), share/hail-services/manifest (what
# activate needs to know per unit: hash, switch method, whether to start it, health) and the
# two scripts with every tool path fixed at build time. Only the host's systemctl and
# journalctl are looked up at run time: a store systemd may not match the running PID 1.
{
  pkgs,
  name,
  services,
  version ? "0",
  # /run/systemd/system suits NixOS (its /etc is read-only) and any host where hail runs
  # bin/activate at start: it is a tmpfs, so units and state vanish together at reboot and
  # come back with the next activate.
  unitDir ? "/run/systemd/system",
  # The state (link to the installed unit set, blue-green slots) must live exactly as long as
  # the units: under /run for a /run unit dir, on disk (/var/lib) for /etc/systemd/system.
  stateDir ? (if builtins.substring 0 5 unitDir == "/run/" then "/run/hail-services" else "/var/lib/hail-services"),
  # How long activate watches a started unit for a crash loop before calling it up.
  settleSec ? 1,
}:
let
  inherit (builtins)
    attrNames
    concatLists
    concatStringsSep
    genList
    length
    match
    elemAt
    readFile
    replaceStrings
    toString
    ;
  ns =
    if builtins.isString name && match "[a-z][a-z0-9-]*" name != null then
      name
    else
      throw "mkServiceProfile: name = ${builtins.toJSON name} is not a valid namespace: it must match ^[a-z][a-z0-9-]*$ (it prefixes every unit name)";
  perService = import ./service-units.nix { inherit pkgs ns stateDir; };
  built = map (svc: perService svc services.${svc}) (attrNames services);
  units = concatLists (map (b: b.units) built);
  healthScripts = concatLists (map (b: b.healthScripts) built);
  manifest = concatStringsSep "\n" (concatLists (map (b: b.lines) built)) + "\n";

  toolPath = concatStringsSep ":" [
    "${pkgs.coreutils}/bin"
    "${pkgs.gnugrep}/bin"
    "${pkgs.gnused}/bin"
    "${pkgs.curl}/bin"
  ];
  # The scripts are plain files here; only host-independent values are filled in (the store
  # path of the profile itself, @out@, is filled in by the builder).
  fill =
    text:
    replaceStrings
      [ "@runtimeShell@" "@toolPath@" "@namespace@" "@unitDir@" "@stateDir@" "@settleSec@" "@version@" ]
      [ pkgs.runtimeShell toolPath ns unitDir stateDir (toString settleSec) version ]
      text;
  script = bodies: fill (builtins.concatStringsSep "" (map readFile ([ ./header.sh ./common.sh ] ++ bodies)));

  # Every file is handed to the builder as one environment variable (file_<i> / path_<i>),
  # written with printf '%s' so no character of a unit file is ever interpreted.
  files =
    map (x: {
      path = "units/${x.file}";
      text = x.text;
      mode = "444";
    }) units
    ++ map (h: {
      path = "health/${h.name}";
      text = h.text;
      mode = "555";
    }) healthScripts
    ++ [
      {
        path = "share/hail-services/manifest";
        text = manifest;
        mode = "444";
      }
      {
        path = "bin/activate";
        text = script [ ./blue-green.sh ./activate.sh ];
        mode = "555";
      }
      {
        path = "bin/deactivate";
        text = script [ ./deactivate.sh ];
        mode = "555";
      }
    ];
  count = length files;
  env = builtins.listToAttrs (
    concatLists (
      genList (
        i:
        let
          f = elemAt files i;
        in
        [
          {
            name = "file_${toString i}";
            value = f.text;
          }
          {
            name = "path_${toString i}";
            value = f.path;
          }
          {
            name = "mode_${toString i}";
            value = f.mode;
          }
        ]
      ) count
    )
  );
in
pkgs.runCommand "${ns}-services-${version}" (env // { fileCount = toString count; }) ''
  mkdir -p "$out/units" "$out/health" "$out/bin" "$out/share/hail-services"
  i=0
  while [ "$i" -lt "$fileCount" ]; do
    eval "text=\"\$file_$i\" path=\"\$path_$i\" mode=\"\$mode_$i\""
    # The scripts name their own profile: `current` links to it, unit links go through it.
    case "$path" in bin/*) text="''${text//@out@/$out}" ;; esac
    printf '%s' "$text" > "$out/$path"
    chmod "$mode" "$out/$path"
    i=$((i + 1))
  done
''
