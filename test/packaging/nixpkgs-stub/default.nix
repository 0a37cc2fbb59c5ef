# A stand-in for the part of nixpkgs 26.05 that hail's flake.nix, nix/package.nix,
# nix/module.nix, nix/lib (mkServiceProfile) and the service template use, so that the
# packaging tests evaluate them offline, without nixpkgs: test/packaging/nix-stub.nix imports
# it, and ./flake.nix offers it as a flake, the `nixpkgs` input of a host flake in
# test/packaging/host-flake.test.ts and of the template in service-template.test.ts.
#
# The module "system" here only fills options with definitions or defaults, checks simple
# types, rejects undeclared options and unwraps mkIf. It is no substitute for evaluating the
# module in NixOS (that needs nixpkgs); it catches typos, wrong defaults and wrong flags.
let
  inherit (builtins)
    all
    attrNames
    elem
    filter
    head
    isAttrs
    isBool
    isList
    isString
    listToAttrs
    mapAttrs
    ;

  lib = rec {
    nixosSystem = args: evalNixos args;
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption =
      what:
      mkOption {
        type = types.bool;
        default = false;
        description = "Whether to enable ${what}.";
      };
    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkDefault = content: {
      _type = "override";
      priority = 1000;
      inherit content;
    };
    literalExpression = text: {
      _type = "literalExpression";
      inherit text;
    };
    nameValuePair = name: value: { inherit name value; };
    mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
    mapAttrs' = f: set: listToAttrs (mapAttrsToList f set);
    concatLists = builtins.concatLists;
    unique = builtins.foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];
    genAttrs = names: f: listToAttrs (map (n: nameValuePair n (f n)) names);
    optional = cond: x: if cond then [ x ] else [ ];
    optionalAttrs = cond: set: if cond then set else { };
    importJSON = path: builtins.fromJSON (builtins.readFile path);
    getExe = drv: "${drv}/bin/${drv.meta.mainProgram}";
    versionAtLeast = v1: v2: builtins.compareVersions v1 v2 >= 0;
    versionOlder = v1: v2: builtins.compareVersions v2 v1 > 0;
    optionalString = cond: string: if cond then string else "";
    licenses.mit = "mit";
    # as nixpkgs' lib.warn on a Nix without builtins.warn (2.8 here): a trace, or an abort
    # under NIX_ABORT_ON_WARN=1, which the tests set so that a warning fails them
    warn =
      msg: v:
      if builtins.getEnv "NIX_ABORT_ON_WARN" == "1" then
        abort "evaluation warning: ${msg} (NIX_ABORT_ON_WARN=1)"
      else
        builtins.trace "evaluation warning: ${msg}" v;
    platforms = {
      linux = [ "x86_64-linux" ];
      darwin = [ "x86_64-darwin" ];
    };
    fileset = {
      unions = files: files;
      toSource =
        { root, fileset }:
        {
          _type = "fileset";
          inherit root fileset;
        };
    };
    types = {
      bool = {
        name = "bool";
        check = isBool;
      };
      str = {
        name = "str";
        check = isString;
      };
      package = {
        name = "package";
        check = _: true;
      };
      nullOr = t: {
        name = "null or ${t.name}";
        check = v: v == null || t.check v;
      };
      listOf = t: {
        name = "list of ${t.name}";
        check = v: isList v && all t.check v;
      };
      enum = vs: {
        name = "one of ${toString vs}";
        check = v: elem v vs;
      };
      attrsOf = t: {
        name = "attrsOf";
        elemType = t;
        check = isAttrs;
      };
      submodule = module: {
        name = "submodule";
        inherit module;
        check = isAttrs;
      };
    };
  };

  # --- the module "system" ---------------------------------------------------------------
  isOption = o: (o._type or null) == "option";

  fill =
    opts: defs: loc:
    let
      unknown = filter (n: !(opts ? ${n})) (attrNames defs);
    in
    if unknown != [ ] then
      throw "The option `${loc}.${head unknown}' does not exist."
    else
      mapAttrs (
        n: o: if isOption o then fillOption o defs "${loc}.${n}" n else fill o (defs.${n} or { }) "${loc}.${n}"
      ) opts;

  fillOption =
    o: defs: loc: n:
    let
      v =
        if defs ? ${n} then
          defs.${n}
        else if o ? default then
          o.default
        else
          throw "The option `${loc}' is used but not defined.";
    in
    if !(o.type.check v) then
      throw "A definition for option `${loc}' is not of type `${o.type.name}'."
    else if o.type.name == "attrsOf" && o.type.elemType.name == "submodule" then
      mapAttrs (name: d: fillSubmodule o.type.elemType.module name d "${loc}.${name}") v
    else
      v;

  fillSubmodule =
    module: name: defs: loc:
    let
      self = fill
        (module {
          inherit lib name;
          config = self;
        }).options
        defs
        loc;
    in
    self;

  unwrapIf = x: if (x._type or null) == "if" then (if x.condition then x.content else { }) else x;

  # --- nixpkgs 26.05, as far as hail's Nix files reach into it --------------------------
  # Each stand-in derivation is an attribute set with a store path; `outPath` is what a real
  # derivation evaluates (and where nixpkgs refuses an insecure package) when a string takes it.
  fakeDrv = name: extra: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  } // extra;

  nodejsOf = version: fakeDrv "nodejs-${version}" {
    inherit version;
    meta.mainProgram = "node";
  };

  # Node.js lines at their end of life. nixos-26.05 keeps the 20 line but marks it insecure
  # (knownVulnerabilities), so using it fails evaluation with this message unless the user
  # permits it; nixpkgs unstable has dropped it altogether. The attribute names are built from
  # the majors so that the repository's only mention of an EOL node is this model of it.
  eolNodejs = listToAttrs (
    map (
      version:
      let
        major = builtins.head (builtins.splitVersion version);
        drv = nodejsOf version;
      in
      lib.nameValuePair "nodejs_${major}" (
        drv
        // {
          outPath = throw ''
            Refusing to evaluate package '${drv.name}' in /nix/store/00000000000000000000000000000000-source/pkgs/development/web/nodejs/nodejs.nix because it is marked as insecure
            Known issues:
             - This NodeJS release has reached its end of life. See https://nodejs.org/en/about/releases/.'';
        }
      )
    ) [ "20.20.2" ]
  );

  # nixpkgs' callPackage: every argument of the function that pkgs has, defaults or not, then
  # the explicit ones; `override` calls again with more.
  callPackageWith =
    autoArgs: fn: args:
    let
      f = if builtins.isFunction fn then fn else import fn;
      result = f (builtins.intersectAttrs (builtins.functionArgs f) autoArgs // args);
    in
    result // { override = more: callPackageWith autoArgs fn (args // more); };

  # pkgs for one system; `nodeVersion` is nodejs_24's version (package.installPhaseByNode)
  pkgsFor =
    {
      system ? "x86_64-linux",
      nodeVersion ? "24.13.0",
    }:
    let
      cpu = builtins.head (builtins.split "-" system);
      self = eolNodejs // {
        inherit lib;
        callPackage = callPackageWith self;
        # where this machine has kill, for systemd-analyze verify of ExecReload=
        coreutils = fakeDrv "coreutils-9.7" { outPath = "/usr"; };
        nix = fakeDrv "nix-2.28.5" { };
        writeText = name: text: fakeDrv name { inherit text; };
        systemd = fakeDrv "systemd-258" { };
        nodejs_22 = nodejsOf "22.22.0";
        nodejs_24 = nodejsOf nodeVersion;
        nodejs = self.nodejs_24;
        nixfmt = fakeDrv "nixfmt-1.1.0" { };
        # what hail's lib.mkServiceProfile and the service template (nix/templates/service)
        # take from pkgs. runCommand makes a real derivation, instantiated but never built (its
        # builder only fails), so evaluating its drvPath forces every string of its
        # environment as nixpkgs would, and a value a derivation cannot hold fails here too;
        # meta and passthru stay out of the derivation, as stdenv.mkDerivation keeps them out.
        runCommand =
          name: env: buildCommand:
          derivation (
            removeAttrs env [
              "meta"
              "passthru"
            ]
            // {
              inherit name buildCommand system;
              builder = "/bin/sh";
              args = [
                "-c"
                "echo the stub nixpkgs of hail's packaging tests builds nothing >&2; exit 1"
              ];
            }
          )
          // (env.passthru or { })
          // { meta = env.meta or { }; };
        # as nixpkgs' releaseTools.aggregate: Hydra reads _hydraAggregate and constituents
        releaseTools.aggregate =
          {
            name,
            constituents,
            meta ? { },
          }:
          self.runCommand name {
            inherit constituents meta;
            preferLocalBuild = true;
            _hydraAggregate = true;
          } "mkdir -p $out/nix-support; echo $constituents > $out/nix-support/hydra-aggregate-constituents";
        runtimeShell = "${fakeDrv "bash-5.3p3" { }}/bin/bash";
        gnugrep = fakeDrv "gnugrep-3.12" { };
        gnused = fakeDrv "gnused-4.9" { };
        curl = fakeDrv "curl-8.17.0" { };
        python3 = fakeDrv "python3-3.13.9" { meta.mainProgram = "python3"; };
        # as nixpkgs 26.05 (lib.warnOnInstantiate): the old name still works, and warns
        nixfmt-rfc-style = self.nixfmt // {
          outPath = lib.warn "nixfmt-rfc-style is now the same as pkgs.nixfmt which should be used instead." self.nixfmt.outPath;
        };
        makeWrapper = "makeWrapper";
        stdenv = {
          buildPlatform.parsed = {
            kernel.name = builtins.elemAt (builtins.split "-" system) 2;
            cpu.name = cpu;
          };
          hostPlatform = {
            inherit system;
            isLinux = builtins.match ".*-linux" system != null;
          };
        };
        # a derivation's outPath depends on its nodejs's (nodejs is a build input)
        buildNpmPackage =
          attrs:
          attrs
          // {
            type = "derivation";
            name = "${attrs.pname}-${attrs.version}";
            outPath = builtins.seq "${attrs.nodejs}" "/nix/store/00000000000000000000000000000000-${attrs.pname}-${attrs.version}";
          };
        importNpmLock = {
          __functor = _: args: { importNpmLock = args; };
          npmConfigHook = "importNpmLock.npmConfigHook";
        };
        mkShell = attrs: attrs;
        # a NixOS VM test needs the test driver and KVM; the stand-in evaluates its script
        testers.runNixOSTest = test: test;
      };
    in
    self;

  # --- lib.nixosSystem, for services.hail only ------------------------------------------
  # Follows imports, calls each module with { lib, pkgs, config }, and merges the definitions
  # of services.hail (a definition beats an mkDefault one; two different definitions are an
  # error, as in NixOS). Every other option a host sets is accepted and ignored.
  isOverride = v: isAttrs v && (v._type or null) == "override";
  mergeDefinitions =
    loc: values:
    let
      plain = filter (v: !(isOverride v)) values;
      chosen = if plain != [ ] then plain else map (v: v.content) values;
    in
    if all (v: isAttrs v && !(v ? outPath) && !(v ? _type)) chosen then
      builtins.zipAttrsWith (n: mergeDefinitions "${loc}.${n}") chosen
    else if all (v: v == head chosen) chosen then
      head chosen
    else
      throw "The option `${loc}' has conflicting definition values.";

  evalNixos =
    { system, modules, ... }:
    let
      pkgs = pkgsFor { inherit system; };
      call =
        m:
        let
          f = if builtins.isPath m || isString m then import m else m;
        in
        if builtins.isFunction f then f { inherit lib pkgs config; } else f;
      collect = ms: builtins.concatMap (m: let v = call m; in [ v ] ++ collect (v.imports or [ ])) ms;
      all' = collect modules;
      declaring = filter (v: v ? options) all';
      hailModule = head declaring;
      definitions = map (v: (v.config or v).services.hail or { }) (filter (v: !(v ? options)) all');
      # the module's own config, named option by option: `//` would need config to know its names
      moduleConfig = unwrapIf hailModule.config;
      config = {
        nix.package = pkgs.nix;
        services.hail = fill hailModule.options.services.hail (mergeDefinitions "services.hail" definitions) "services.hail";
        systemd.services = moduleConfig.systemd.services or { };
        assertions = moduleConfig.assertions or [ ];
      };
    in
    if builtins.length declaring != 1 then
      throw "the stub's nixosSystem expects exactly one module that declares options (nix/module.nix)"
    else
      { inherit config pkgs; };
in
{
  inherit
    lib
    pkgsFor
    fill
    unwrapIf
    ;
}
