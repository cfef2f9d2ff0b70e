"""A tiny app for the end-to-end tests: serves its folder, and `/env/<NAME>` answers the value
of an environment variable of its process (404 when the variable is not set)."""

import os
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if not self.path.startswith("/env/"):
            super().do_GET()
            return
        value = os.environ.get(self.path.removeprefix("/env/"))
        body = (value if value is not None else "unset").encode()
        self.send_response(200 if value is not None else 404)
        self.send_header("content-type", "text/plain; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    handler = partial(Handler, directory=os.path.dirname(os.path.abspath(__file__)))
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), handler).serve_forever()
