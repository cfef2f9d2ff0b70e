"""A small real app for runtime tests: prints a timestamped tick every 0.2 s, serves GET /,
and crashes or turns sick on request; a start while $CRASH_FILE (default: ./crash-at-start)
exists fails at once."""

from __future__ import annotations

APP = """\
import os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

crash_file = os.environ.get("CRASH_FILE", "crash-at-start")
if crash_file and os.path.exists(crash_file):
    print("cannot start: " + crash_file + " is there", flush=True)
    sys.exit(4)
sick = False


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        global sick
        if self.path == "/crash":
            print("crashing on purpose with token " + os.environ.get("API_TOKEN", ""), flush=True)
            os._exit(3)
        if self.path in ("/sick", "/well"):
            sick = self.path == "/sick"
        body = b"sick" if sick else b"hello"
        self.send_response(500 if sick else 200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def tick():
    n = 0
    while True:
        n += 1
        print(f"tick {n} at {time.time():.3f}", flush=True)
        time.sleep(0.2)


threading.Thread(target=tick, daemon=True).start()
print("listening on " + os.environ["PORT"], flush=True)
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""
FILES = {
    "app.py": APP,
    "index.html": "<h1>runtime app</h1>\n",
    "autostack.yml": "build:\n  start: python3 app.py\n",
}


def printed_at(text: str) -> float | None:
    """The time a `tick N at T` line says it was printed."""
    head, _, at = text.rpartition(" at ")
    return float(at) if head.startswith("tick ") and at else None
