# A stand-in for the small part of nixpkgs that flake.nix, nix/package.nix and nix/module.nix
# use, so test/packaging/nix-files.test.ts can evaluate them offline, without nixpkgs:
#   nix-instantiate --eval --strict --json test/packaging/nix-stub.nix --arg repo ./. -A <attr>
#
# The module "system" here only fills options with definitions or defaults, checks simple
# types, rejects undeclared options and unwraps mkIf. It is no substitute for evaluating the
# module in NixOS (that needs nixpkgs); it catches typos, wrong defaults and wrong flags.
{
  repo,
  # services.hail definitions for the module evaluation
  settings ? { },
  # node versions to evaluate nix/package.nix with (package.installPhaseByNode)
  nodeVersions ? [ "20.19.5" ],
}:
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

  pkgs = {
    coreutils = "/usr";
    callPackage = path: args: {
      outPath = "/nix/store/00000000000000000000000000000000-hail-0.1.0";
      callPackage = toString path;
      inherit args;
    };
  };

  # --- nix/module.nix ----------------------------------------------------------------------
  module = import (repo + "/nix/module.nix");
  evaluated = module {
    inherit lib pkgs;
    config = moduleConfig;
  };
  moduleConfig = {
    nix.package = "/nix/store/00000000000000000000000000000000-nix-2.28";
    services.hail = fill evaluated.options.services.hail settings "services.hail";
  };
  moduleResult = unwrapIf evaluated.config;
  instanceModule = evaluated.options.services.hail.instances.type.elemType.module;

  # --- nix/package.nix ---------------------------------------------------------------------
  packageFor = cpu: packageWithNode cpu "20.19.5";
  packageWithNode =
    cpu: nodeVersion:
    import (repo + "/nix/package.nix") {
      inherit lib;
      stdenv.buildPlatform.parsed = {
        kernel.name = "linux";
        cpu.name = cpu;
      };
      buildNpmPackage = attrs: attrs;
      importNpmLock = {
        __functor = _: args: { importNpmLock = args; };
        npmConfigHook = "importNpmLock.npmConfigHook";
      };
      nodejs_20 = {
        outPath = "/nix/store/00000000000000000000000000000000-nodejs-${nodeVersion}";
        version = nodeVersion;
        meta.mainProgram = "node";
      };
      makeWrapper = "makeWrapper";
    };
  packageSummary =
    cpu:
    let
      p = packageFor cpu;
    in
    {
      inherit (p)
        pname
        version
        installPhase
        installCheckPhase
        dontNpmInstall
        npmConfigHook
        ;
      nodejs = p.nodejs.version;
      mainProgram = p.meta.mainProgram;
      srcRoot = toString p.src.root;
      srcFiles = map toString p.src.fileset;
      srcFilesExist = all builtins.pathExists p.src.fileset;
      hasNpmDepsHash = p ? npmDepsHash;
      resolved = lib.mapAttrsToList (path: m: {
        inherit path;
        resolved = m.resolved or null;
      }) p.npmDeps.importNpmLock.packageLock.packages;
      packageJsonName = p.npmDeps.importNpmLock.package.name;
    };

  # --- flake.nix ---------------------------------------------------------------------------
  flake = import (repo + "/flake.nix");
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [
      "x86_64-linux"
      "aarch64-linux"
      "x86_64-darwin"
      "aarch64-darwin"
    ] (system: pkgs // {
      inherit lib;
      stdenv.hostPlatform = {
        inherit system;
        isLinux = builtins.match ".*-linux" system != null;
      };
      nodejs_20 = "nodejs_20";
      nix = "nix";
      systemd = "systemd";
      nixfmt-rfc-style = "nixfmt";
      mkShell = attrs: attrs;
    });
  };
  outputs = flake.outputs {
    self = outputs;
    inherit nixpkgs;
  };
  flakeModule = outputs.nixosModules.default {
    inherit lib;
    pkgs = nixpkgs.legacyPackages.x86_64-linux;
  };
in
{
  module = {
    optionNames = attrNames evaluated.options.services.hail;
    instanceOptionNames = attrNames
      (instanceModule {
        inherit lib;
        name = "example";
        config = { };
      }).options;
    services = moduleResult.systemd.services or { };
    assertions = map (a: { inherit (a) assertion message; }) (moduleResult.assertions or [ ]);
    instances = moduleConfig.services.hail.instances;
    defaultPackage = (fill evaluated.options.services.hail { } "services.hail").package.callPackage;
  };

  package = {
    x86_64 = packageSummary "x86_64";
    aarch64 = packageSummary "aarch64";
    # bin/hail's wrapper flags with the package's nodejs at each version (--disable-sigusr1)
    installPhaseByNode = lib.genAttrs nodeVersions (v: (packageWithNode "x86_64" v).installPhase);
  };

  flake = {
    inherit (flake) description;
    nixpkgsUrl = flake.inputs.nixpkgs.url;
    systems = attrNames outputs.packages;
    defaultPackage = outputs.packages.x86_64-linux.default.callPackage;
    hailPackage = outputs.packages.aarch64-linux.hail.callPackage;
    app = outputs.apps.x86_64-linux.default;
    overlay = (outputs.overlays.default pkgs { }).hail.callPackage;
    moduleImports = map toString flakeModule.imports;
    modulePackage = flakeModule.services.hail.package;
    # names only: running a check needs nixpkgs' NixOS test driver
    checks = mapAttrs (_: attrNames) outputs.checks;
    devShellPackages = {
      linux = outputs.devShells.x86_64-linux.default.packages;
      darwin = outputs.devShells.aarch64-darwin.default.packages;
    };
  };
}
