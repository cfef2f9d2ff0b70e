"""The client verbs' one door to the server, on the standard library's http.client (importing
httpx alone costs ten times an interpreter's start-up): transport errors become one-line
CliErrors (exit 3 when the server cannot be reached or goes away), refusals the API's own
error message."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot.cli.config import Credentials, resolve
from bot.cli.errors import UNREACHABLE, CliError, StdoutClosed

V1 = "/api/v1"
TIMEOUT = 30.0


def say(text: str) -> None:
    """Print a line at once, telling a closed stdout apart from a closed socket."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        raise StdoutClosed from None


def credentials(args: argparse.Namespace) -> Credentials:
    """The server and token for this invocation (see bot/cli/config.py for the order)."""
    return resolve(args.server, os.environ, Path.cwd())


class Http:
    """One connection to the server, speaking for the token."""

    def __init__(self, creds: Credentials) -> None:
        self.creds = creds
        parts = urlsplit(creds.url)
        self.prefix = parts.path.rstrip("/")
        if parts.scheme == "https":
            import ssl

            self.conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=TIMEOUT, context=ssl.create_default_context()
            )
        else:
            self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        stream: bool = False,
    ) -> http.client.HTTPResponse:
        """Send one request; with `stream` the answer may take as long as it needs."""
        headers = {"authorization": f"Bearer {self.creds.token}", "user-agent": "autostack-cli"}
        if json_body is not None:
            content, content_type = json.dumps(json_body).encode(), "application/json"
        if content_type:
            headers["content-type"] = content_type
        url = self.prefix + path + (f"?{urlencode(query)}" if query else "")
        self.conn.request(method, url, body=content, headers=headers)
        if stream and self.conn.sock is not None:
            # a build can be quiet for minutes: the stream waits as long as the deployment runs
            self.conn.sock.settimeout(None)
        return self.conn.getresponse()

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a successful answer; CliError for a refusal or a body that is not JSON."""
        response = self.request(method, path, **kwargs)
        body = response.read()
        if response.status >= 400:
            raise refusal(response.status, body, self.creds)
        try:
            return json.loads(body)
        except ValueError:
            raise CliError(f"AutoStack at {self.creds.url} answered something that is not JSON") from None


@contextlib.contextmanager
def connect(creds: Credentials) -> Iterator[Http]:
    """A connection to the server; a network error inside the block ends as a CliError."""
    http_ = Http(creds)
    try:
        yield http_
    except (ConnectionRefusedError, socket.gaierror) as exc:
        raise CliError(
            f"cannot reach AutoStack at {creds.url} ({_reason(exc)}); is `autostack serve` running?",
            UNREACHABLE,
        ) from None
    except TimeoutError:
        raise CliError(f"AutoStack at {creds.url} did not answer in time", UNREACHABLE) from None
    except (http.client.HTTPException, ConnectionError) as exc:
        raise CliError(
            f"lost the connection to AutoStack at {creds.url} ({_reason(exc)})", UNREACHABLE
        ) from None
    except OSError as exc:
        raise CliError(f"cannot talk to AutoStack at {creds.url} ({_reason(exc)})", UNREACHABLE) from None
    finally:
        http_.conn.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def refusal(status: int, body: bytes, creds: Credentials | None = None) -> CliError:
    """The API's {"error": ...} as a CliError naming the HTTP status."""
    try:
        parsed = json.loads(body)
        message = parsed.get("error") if isinstance(parsed, dict) else None
    except ValueError:
        message = None
    message = message or body.decode(errors="replace").strip()[:200] or http.client.responses.get(status, "")
    if status == 401 and creds is not None:
        message += f" (the token came from {creds.source})"
    return CliError(f"{message} (HTTP {status})")


def events(response: http.client.HTTPResponse) -> Iterator[dict[str, Any]]:
    """The NDJSON progress events of a streamed answer."""
    while raw := response.readline():
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
        except ValueError:
            raise CliError(f"unexpected line in the progress stream: {raw[:120]!r}") from None
        if isinstance(event, dict):
            yield event
