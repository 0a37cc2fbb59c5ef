#!@python3@/bin/python3
# myapp: a tiny HTTP service. Replace it with your own program; what hail's service profile
# needs from it is a command that stays in the foreground and, for the health check, an URL
# that answers 200 once it is ready to serve.
#   GET /health -> 200 "ok"
#   GET /       -> 200 "myapp VERSION"
# It listens on 127.0.0.1:$PORT (8080 when PORT is not set); under blue-green the service
# profile sets PORT to each slot's port.
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "@version@"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n" if self.path == "/health" else f"myapp {VERSION}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # one line per request would flood the journal


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8080"))
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
