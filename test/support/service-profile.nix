# A whole service profile built with the stand-in pkgs, for tests:
#   nix-build test/support/service-profile.nix --argstr nonce N --argstr spec "$(JSON)"
# (or lab.buildExpression("test/support/service-profile.nix", { spec: JSON.stringify(…) })).
# spec = { name, version?, unitDir?, stateDir?, settleSec?, services }. A service may say
# `"app": { "version": "v1", "healthy": true, "crash": false }` instead of `exec`: the app of
# ./service-apps.nix is built and run, with the service's `exec` (if any) as extra arguments.
{
  nonce ? "",
  spec,
}:
let
  s = builtins.fromJSON spec;
  pkgs = import ./service-pkgs.nix { inherit nonce; };
  app = a: import ./service-apps.nix ({ inherit nonce; } // a);
  withApp =
    svc:
    if svc ? app then
      removeAttrs svc [ "app" ] // { exec = [ "${app svc.app}/bin/app" ] ++ (svc.exec or [ ]); }
    else
      svc;
in
(import ../../nix/lib).mkServiceProfile (
  removeAttrs s [ "services" ]
  // {
    inherit pkgs;
    services = builtins.mapAttrs (_: withApp) s.services;
  }
)
