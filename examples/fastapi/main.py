"""A tiny FastAPI app for AutoStack's examples and tests."""

import os

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.get("/", response_class=HTMLResponse)
def index() -> str:
    """The home page, naming the environment it runs in."""
    return f"<h1>Hello from FastAPI</h1><p>{os.environ.get('AUTOSTACK_ENVIRONMENT', '?')}</p>"
