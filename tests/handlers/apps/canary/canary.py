"""The canary app: prints a secret in every form a program might, at build, at start and
every 0.2 s once serving, then a `canary tick N` marker the test waits for.

`python canary.py build` reads the value from `canary.secret` (a build gets no secrets, so a
leak there means a value committed to the source); `python canary.py serve` reads $CANARY_TOKEN.
"""

import base64
import json
import os
import sys
import threading
import time
import urllib.parse
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


def forms(secret: str) -> list[str]:
    raw, half = secret.encode(), len(secret) // 2
    return [
        f"plain: {secret}",
        f"first half: {secret[:half]}",
        f"{secret[half:]} <- second half",
        f"wrapped at 60 columns: {'.' * 30}{secret[:7]}",
        secret[7:],
        "base64: " + base64.b64encode(raw).decode(),
        "base64 url-safe: " + base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "basic auth: " + base64.b64encode(b"user:" + raw).decode(),
        "jwt-ish: " + base64.urlsafe_b64encode(b'{"k":"' + raw + b'"}').decode().rstrip("="),
        "json: " + json.dumps({"token": secret}),
        "url: https://api.example/?key=" + urllib.parse.quote(secret, safe=""),
        "form: key=" + urllib.parse.quote_plus(secret),
    ]


def say(secret: str, when: str) -> None:
    for line in forms(secret):
        print(f"[{when}] {line}", flush=True)


def ticks(secret: str) -> None:
    for n in range(10_000):
        time.sleep(0.2)
        say(secret, "live")
        print(f"canary tick {n}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "build":
        with open("canary.secret") as source:
            say(source.read().strip(), "build")
        sys.exit(0)
    token = os.environ["CANARY_TOKEN"]
    say(token, "start")
    threading.Thread(target=ticks, args=(token,), daemon=True).start()
    handler = partial(SimpleHTTPRequestHandler, directory=os.path.dirname(os.path.abspath(__file__)))
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), handler).serve_forever()
