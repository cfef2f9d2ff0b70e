"""A tiny Flask app for AutoStack's examples and tests."""

import os

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    """The home page, naming the version so a redeploy is visible."""
    return f"<h1>Hello from Flask</h1><p>version {os.environ.get('APP_VERSION', '1')}</p>"


@app.get("/healthz")
def healthz() -> str:
    """Ready as soon as the process answers."""
    return "ok"
