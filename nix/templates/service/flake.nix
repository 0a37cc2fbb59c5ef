# myapp, deployed by hail: Hydra builds the jobs below, hail on each host follows the release
# gate and deploys the `myapp` constituent, a service profile whose bin/activate switches the
# systemd units. README.md says the steps; hail's docs/services.md says what activate does.
{
  description = "myapp: a service deployed by hail from a Hydra release gate";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    # Where hail is checked out (or `path:/srv/src/hail`). hail is not published: once it
    # is, its public URL goes here instead.
    hail.url = "git+file:///srv/src/hail";
    hail.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs =
    { nixpkgs, hail, ... }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      version = "1.0.0";
      port = 8080;

      # the program: app.py with its interpreter and version filled in
      app = pkgs.runCommand "myapp-app-${version}" { } ''
        mkdir -p $out/bin
        substitute ${./app.py} $out/bin/myapp \
          --subst-var-by python3 ${pkgs.python3} \
          --subst-var-by version ${version}
        chmod +x $out/bin/myapp
      '';

      # one test of it: start it, ask it, stop it (the build sandbox has its own loopback)
      app-test = pkgs.runCommand "myapp-app-test-${version}" { nativeBuildInputs = [ pkgs.curl ]; } ''
        PORT=18080 ${app}/bin/myapp &
        server=$!
        curl -fsS --retry 30 --retry-connrefused --retry-delay 1 http://127.0.0.1:18080/health
        test "$(curl -fsS http://127.0.0.1:18080/)" = "myapp ${version}"
        kill $server
        touch $out
      '';

      # what hail deploys: bin/activate installs and switches the units, waits for the
      # health check and fails (so that hail rolls back) when the service does not come up
      myapp = hail.lib.mkServiceProfile {
        inherit pkgs version;
        name = "myapp"; # the namespace: the unit is myapp-web.service
        services.web = {
          description = "myapp's web server";
          exec = [ "${app}/bin/myapp" ];
          environment.PORT = toString port;
          # no user of its own to create: systemd allocates one while the service runs
          serviceConfig.DynamicUser = true;
          health = {
            http = "http://127.0.0.1:${toString port}/health";
            timeoutSec = 30;
          };
          # Zero-downtime switches: the new version starts on the idle slot's port, traffic
          # moves once it is healthy, the old one stops after the drain. Instead of the
          # environment.PORT and health above:
          #   blueGreen = { listen = 8080; slots = [ 8081 8082 ]; drainSec = 2; };
          #   health = { http = "http://127.0.0.1:{port}/health"; timeoutSec = 30; };
          # Turning a running service blue-green works in place: activate stops the plain
          # myapp-web before its front socket takes port 8080 (a moment of refused connections).
        };
      };
    in
    {
      packages.${system}.default = app;

      # Hydra's jobs (a flake jobset). Job names are the attribute names; keep them flat.
      hydraJobs = {
        inherit app app-test myapp;
        # The release gate hail follows: green only when every constituent is. Constituents
        # by job name: Hydra finds each one among the jobs of the same evaluation.
        release_gate = pkgs.releaseTools.aggregate {
          name = "release_gate";
          constituents = [
            "app"
            "app-test"
            "myapp"
          ];
        };
      };
    };
}
