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
  # nodejs_24 versions to evaluate nix/package.nix with (package.installPhaseByNode)
  nodeVersions ? [ "24.13.0" ],
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
        systemd = fakeDrv "systemd-258" { };
        nodejs_22 = nodejsOf "22.22.0";
        nodejs_24 = nodejsOf nodeVersion;
        nodejs = self.nodejs_24;
        nixfmt = fakeDrv "nixfmt-1.1.0" { };
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

  pkgs = pkgsFor { };

  # --- nix/module.nix ----------------------------------------------------------------------
  module = import (repo + "/nix/module.nix");
  evaluated = module {
    inherit lib pkgs;
    config = moduleConfig;
  };
  moduleConfig = {
    nix.package = pkgs.nix;
    services.hail = fill evaluated.options.services.hail settings "services.hail";
  };
  moduleResult = unwrapIf evaluated.config;
  instanceModule = evaluated.options.services.hail.instances.type.elemType.module;

  # a package as the tests see it; its store path is forced, so an insecure nodejs fails here
  # (not named outPath: nix-instantiate --json would print the set as that string)
  drvSummary = p: {
    inherit (p) pname version;
    storePath = "${p}";
    nodejs = p.nodejs.name;
  };

  # --- nix/package.nix ---------------------------------------------------------------------
  packageFor = cpu: packageWithNode cpu "24.13.0";
  packageWithNode =
    cpu: nodeVersion:
    (pkgsFor {
      system = "${cpu}-linux";
      inherit nodeVersion;
    }).callPackage
      (repo + "/nix/package.nix")
      { };
  packageSummary =
    cpu:
    let
      p = packageFor cpu;
    in
    drvSummary p
    // {
      inherit (p)
        installPhase
        installCheckPhase
        dontNpmInstall
        npmConfigHook
        ;
      nodejsVersion = p.nodejs.version;
      mainProgram = p.meta.mainProgram;
      srcRoot = toString p.src.root;
      srcFiles = map toString p.src.fileset;
      srcFilesExist = all builtins.pathExists p.src.fileset;
      hasNpmDepsHash = p ? npmDepsHash;
      resolved = lib.mapAttrsToList (path: m: {
        inherit path;
        resolved = m.resolved or null;
      }) p.npmDeps.importNpmLock.packageLock.packages;
      lockPaths = attrNames p.npmDeps.importNpmLock.packageLock.packages;
      lockRoot = p.npmDeps.importNpmLock.packageLock.packages."";
      lockDependencies = lib.mapAttrsToList (path: m: {
        inherit path;
        dependencies = attrNames (m.dependencies or { });
      }) p.npmDeps.importNpmLock.packageLock.packages;
      packageJson = p.npmDeps.importNpmLock.package;
      # the same package with another Node.js, as a user would override it
      overriddenNodejs = (p.override { nodejs_24 = pkgs.nodejs_22; }).nodejs.name;
    };

  # --- flake.nix ---------------------------------------------------------------------------
  flake = import (repo + "/flake.nix");
  systems = [
    "x86_64-linux"
    "aarch64-linux"
    "x86_64-darwin"
    "aarch64-darwin"
  ];
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs systems (system: pkgsFor { inherit system; });
  };
  outputs = flake.outputs {
    self = outputs;
    inherit nixpkgs;
  };
  flakeModule = outputs.nixosModules.default {
    inherit lib;
    pkgs = nixpkgs.legacyPackages.x86_64-linux;
  };
  # a check is a NixOS test; its script is evaluated with the machine's hail package, which
  # nixosModules.default sets
  checkSummary =
    test:
    let
      t = test { inherit lib; };
    in
    {
      inherit (t) name;
      nodes = attrNames t.nodes;
      script = t.testScript { nodes.machine.services.hail.package = flakeModule.services.hail.package.content; };
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
    defaultPackage = drvSummary (fill evaluated.options.services.hail { } "services.hail").package;
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
    packages = mapAttrs (_: mapAttrs (_: drvSummary)) outputs.packages;
    app = outputs.apps.x86_64-linux.default;
    overlay = drvSummary (outputs.overlays.default pkgs pkgs).hail;
    moduleImports = map toString flakeModule.imports;
    modulePackage = flakeModule.services.hail.package // {
      content = drvSummary flakeModule.services.hail.package.content;
    };
    checks = mapAttrs (_: mapAttrs (_: checkSummary)) outputs.checks;
    formatter = mapAttrs (_: f: "${f}") outputs.formatter;
    devShellPackages = {
      linux = map (p: p.name) outputs.devShells.x86_64-linux.default.packages;
      darwin = map (p: p.name) outputs.devShells.aarch64-darwin.default.packages;
    };
  };
}
