# A NixOS VM test (pkgs.testers.runNixOSTest): a machine runs hail with `nixos = true` and
# deploys a new system from a tiny Hydra stand-in on the same machine. The "new system" is a
# specialisation of the machine's own configuration (so it keeps the test driver's
# instrumentation) that adds /etc/hail-deployed; the stand-in serves a release gate whose
# constituent `machine` is that system's store path. Run it with
#   nix build .#checks.x86_64-linux.nixos-deploy
# (It needs KVM and nixpkgs; the packaging tests of this repository only parse it.)
{ self }:
{ lib, ... }:
{
  name = "hail-nixos-deploy";

  nodes.machine =
    { pkgs, ... }:
    {
      imports = [ self.nixosModules.default ];

      specialisation.new.configuration = {
        environment.etc."hail-deployed".text = "deployed by hail\n";
      };

      # The Hydra stand-in: latest-finished redirects to build 1, whose constituent `machine`
      # is the path written to /var/lib/fake-hydra/system-path by the test script.
      systemd.services.fake-hydra = {
        wantedBy = [ "multi-user.target" ];
        serviceConfig.StateDirectory = "fake-hydra";
        script = ''
          exec ${pkgs.python3}/bin/python3 ${pkgs.writeText "fake-hydra.py" ''
            import json
            from http.server import BaseHTTPRequestHandler, HTTPServer

            def build(id, job, path):
                return {"id": id, "finished": 1, "buildstatus": 0, "project": "infra", "jobset": "main",
                        "job": job, "jobsetevals": [1], "stoptime": 1700000000,
                        "buildoutputs": {"out": {"path": path}}}

            class Handler(BaseHTTPRequestHandler):
                def do_GET(self):
                    path = open("/var/lib/fake-hydra/system-path").read().strip()
                    gate = build(1, "release_gate", "/nix/store/0v4yhcqzcslqnkhdbm0fkpsjhsbn3x8r-release_gate")
                    routes = {"/build/1": gate, "/build/1/constituents": [build(2, "machine", path)]}
                    if self.path == "/job/infra/main/release_gate/latest-finished":
                        self.send_response(302)
                        self.send_header("Location", "/build/1")
                        self.end_headers()
                    elif self.path in routes:
                        body = json.dumps(routes[self.path]).encode()
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.end_headers()
                        self.wfile.write(body)
                    else:
                        self.send_response(404)
                        self.end_headers()

            HTTPServer(("127.0.0.1", 3000), Handler).serve_forever()
          ''}
        '';
      };

      services.hail = {
        enable = true;
        instances.system = {
          gateJob = "http://127.0.0.1:3000/job/infra/main/release_gate";
          constituent = "machine";
          nixos = true;
          pollPeriod = "5s";
          confirmTimeout = "1m";
          # the VM's small disk must not stop a deployment that downloads nothing
          extraArgs = [
            "--min-free"
            "0"
          ];
        };
      };
      # hail starts once the stand-in has a path to offer
      systemd.services.hail-system.wantedBy = lib.mkForce [ ];
    };

  testScript =
    { nodes, ... }:
    let
      hail = "${nodes.machine.services.hail.package}/bin/hail";
    in
    ''
    machine.wait_for_unit("fake-hydra.service")
    new = machine.succeed("readlink -f /run/current-system/specialisation/new").strip()
    machine.succeed(f"echo {new} > /var/lib/fake-hydra/system-path")
    machine.succeed("systemctl start hail-system.service")
    machine.wait_until_succeeds(f"test \"$(readlink -f /nix/var/nix/profiles/system)\" = {new}", timeout=300)
    machine.wait_until_succeeds("test -e /etc/hail-deployed", timeout=300)
    machine.wait_until_succeeds("${hail} status system --json | grep -q '\"result\": \"success\"'", timeout=300)
    # hail was not restarted by its own switch, and still polls
    machine.succeed("systemctl is-active hail-system.service")
  '';
}
