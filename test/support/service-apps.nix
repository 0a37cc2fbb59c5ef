# Tiny HTTP apps for the service-profile tests, built with nix-build and no nixpkgs (the host's
# /usr/bin/python3 runs them). `$out/bin/app` listens on 127.0.0.1:$PORT (or `--port N`) and
# answers `GET /health` with 200 "ok" (500 when healthy = false) and any other GET with
# `<version>\n`. On SIGTERM it stops accepting and finishes the requests in flight (a
# blue-green drain relies on that). Arguments:
#   version  text the app answers with (required)
#   healthy  false: /health answers 500, so a health check never passes (default true)
#   crash    true: exits 1 right after starting, so systemd sees a crash loop (default false)
#   name     the derivation's name (default "svc-app")
#   nonce    goes into the derivation, so each test run builds a fresh store path
{
  version,
  healthy ? true,
  crash ? false,
  name ? "svc-app",
  nonce ? "",
}:
derivation {
  name = "${name}-${version}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  inherit version nonce;
  healthy = if healthy then "1" else "0";
  crash = if crash then "1" else "0";
  app = ''
    import os, signal, sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    VERSION = os.environ["HAIL_APP_VERSION"]
    HEALTHY = os.environ["HAIL_APP_HEALTHY"] == "1"
    if os.environ["HAIL_APP_CRASH"] == "1":
        print("svc-app " + VERSION + ": crashing on purpose", file=sys.stderr, flush=True)
        sys.exit(1)
    port = int(os.environ.get("PORT", "0"))
    if "--port" in sys.argv:
        port = int(sys.argv[sys.argv.index("--port") + 1])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"
        def do_GET(self):
            if self.path == "/health":
                code, body = (200, b"ok\n") if HEALTHY else (500, b"unhealthy\n")
            else:
                code, body = 200, (VERSION + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = False
        block_on_close = True

    server = Server(("127.0.0.1", port), Handler)
    print("svc-app " + VERSION + " listening on 127.0.0.1:" + str(port), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    done.wait()
    server.shutdown()
    server.server_close()
  '';
  args = [
    "-c"
    ''
      /bin/mkdir -p "$out/bin"
      printf '%s' "$app" > "$out/app.py"
      printf '#!/bin/sh\nexport HAIL_APP_VERSION=%s HAIL_APP_HEALTHY=%s HAIL_APP_CRASH=%s\nexec /usr/bin/python3 %s/app.py "$@"\n' \
        "'$version'" "$healthy" "$crash" "$out" > "$out/bin/app"
      /bin/chmod +x "$out/bin/app"
    ''
  ];
}
