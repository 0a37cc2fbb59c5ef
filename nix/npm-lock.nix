# Prepares package-lock.json for nixpkgs' importNpmLock, using builtins only (no nixpkgs, so
# test/packaging/nix-files.test.ts evaluates it offline with nix-instantiate).
#
# Why: this repository's package-lock.json has an `integrity` for every package but no
# `resolved` URL (npm leaves it out when the registry is the default one). importNpmLock
# fetches a package only when it has `resolved`; without it the build would run npm offline
# with nothing to install. The registry's tarball URL follows from name and version
# (https://registry.npmjs.org/@scope/name/-/name-1.2.3.tgz), and the integrity already in the
# lock pins the content, so filling it in here needs no hash of our own.
#
# Optional packages for other platforms (esbuild's and TypeScript's per-platform binaries,
# about 45 of them, TypeScript's around 10 MB each) are left without `resolved`: importNpmLock
# then does not download them, and npm skips them by their os/cpu fields without fetching.
#
# Arguments:
#   packageLock  the parsed package-lock.json (lockfileVersion 2 or 3: the `packages` map)
#   registry     where tarballs come from
#   platform     { os; cpu; } in npm's names (process.platform, process.arch: "linux",
#                "x64"), or null to keep every platform
#   omit         names of top-level packages to leave out: their entries go, and so do they
#                from the root package's dependency lists (npm would otherwise see the lock as
#                out of date and try to fetch them). The caller names every package that only
#                they need, and drops them from package.json too.
{
  packageLock,
  registry ? "https://registry.npmjs.org",
  platform ? null,
  omit ? [ ],
}:
let
  inherit (builtins)
    elem
    filter
    head
    listToAttrs
    mapAttrs
    match
    removeAttrs
    stringLength
    substring
    ;

  # "node_modules/a/node_modules/@s/b" -> "@s/b"; an aliased package names itself in `name`.
  nameOf =
    path: module:
    if module ? name then module.name else head (match ".*node_modules/((@[^/]+/)?[^/]+)" path);

  # "@s/b" -> "b": the tarball's file name drops the scope.
  unscoped =
    name:
    let
      m = match "@[^/]+/(.+)" name;
    in
    if m == null then name else head m;

  tarballUrl = name: version: "${registry}/${name}/-/${unscoped name}-${version}.tgz";

  isNegated = s: substring 0 1 s == "!";
  # npm's os/cpu lists: ["linux"] allows only linux, ["!win32"] allows all but win32.
  allows =
    value: list:
    let
      denied = map (s: substring 1 (stringLength s) s) (filter isNegated list);
      allowed = filter (s: !isNegated s) list;
    in
    !(elem value denied) && (allowed == [ ] || elem value allowed);

  fitsPlatform =
    module:
    platform == null
    || (allows platform.os (module.os or [ ]) && allows platform.cpu (module.cpu or [ ]));

  isOptional = module: module.optional or false || module.devOptional or false;

  fill =
    path: module:
    if path == "" || module ? resolved || module.link or false || !(module ? version) then
      module
    else if isOptional module && !(fitsPlatform module) then
      module
    else
      module // { resolved = tarballUrl (nameOf path module) module.version; };

  omittedPaths = map (name: "node_modules/${name}") omit;
  # the root package ("") lists its own dependencies, by name
  withoutOmitted =
    path: module:
    if path != "" then
      module
    else
      module
      // listToAttrs (
        map (field: {
          name = field;
          value = removeAttrs module.${field} omit;
        }) (filter (field: module ? ${field}) [ "dependencies" "devDependencies" "optionalDependencies" ])
      );
  kept = mapAttrs withoutOmitted (removeAttrs packageLock.packages omittedPaths);
in
packageLock // { packages = mapAttrs fill kept; }
