# The packaging tests' view of hail's Nix files, evaluated against ./nixpkgs-stub (a stand-in
# for the part of nixpkgs 26.05 they use), offline:
#   nix-instantiate --eval --strict --json test/packaging/nix-stub.nix --arg repo ./. -A <attr>
{
  repo,
  # services.hail definitions for the module evaluation
  settings ? { },
  # services.hail definitions for the Home Manager module (nix/home-manager-module.nix)
  homeSettings ? { },
  # nodejs_24 versions to evaluate nix/package.nix with (package.installPhaseByNode)
  nodeVersions ? [ "24.13.0" ],
}:
let
  inherit (builtins) all attrNames mapAttrs;
  stub = import ./nixpkgs-stub;
  inherit (stub) lib pkgsFor fill unwrapIf;
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

  # --- nix/home-manager-module.nix -----------------------------------------------------------
  # Called as Home Manager calls a module; its config is read as Home Manager renders
  # `systemd.user.services.NAME.{Unit,Service,Install}` into a user unit.
  homeModule = import (repo + "/nix/home-manager-module.nix");
  homeEvaluated = homeModule {
    inherit lib pkgs;
    config = homeConfig;
  };
  homeConfig.services.hail = fill homeEvaluated.options.services.hail homeSettings "services.hail";
  homeResult = unwrapIf homeEvaluated.config;

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
  flakeHomeModule = outputs.homeManagerModules.default {
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

  homeManagerModule = {
    optionNames = attrNames homeEvaluated.options.services.hail;
    userServices = homeResult.systemd.user.services or { };
    assertions = map (a: { inherit (a) assertion message; }) (homeResult.assertions or [ ]);
    defaultPackage = drvSummary (fill homeEvaluated.options.services.hail { } "services.hail").package;
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
    homeManagerModuleImports = map toString flakeHomeModule.imports;
    homeManagerModulePackage = flakeHomeModule.services.hail.package // {
      content = drvSummary flakeHomeModule.services.hail.package.content;
    };
    homeManagerModuleAliasImports =
      map toString
        (outputs.homeManagerModules.hail {
          inherit lib;
          pkgs = nixpkgs.legacyPackages.x86_64-linux;
        }).imports;
    checks = mapAttrs (_: mapAttrs (_: checkSummary)) outputs.checks;
    formatter = mapAttrs (_: f: "${f}") outputs.formatter;
    devShellPackages = {
      linux = map (p: p.name) outputs.devShells.x86_64-linux.default.packages;
      darwin = map (p: p.name) outputs.devShells.aarch64-darwin.default.packages;
    };
  };
}
