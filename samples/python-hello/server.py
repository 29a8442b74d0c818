"""The sample Python app: standard library only, answers every request on $PORT."""

import os
import platform
from http.server import BaseHTTPRequestHandler, HTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        greeting = os.environ.get("GREETING", "hello")
        body = f"{greeting} from python-hello on Python {platform.python_version()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5000"))
    print(f"listening on {port}", flush=True)
    HTTPServer(("", port), Hello).serve_forever()
