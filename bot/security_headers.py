"""The security headers every answer of `autostack serve` carries: pages, API, intake, probes,
metrics and errors alike. One middleware, outermost, so no route can answer without them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.intake.endpoint import Message, Receive, Scope, Send

log = logging.getLogger("autostack.http")

Header = tuple[bytes, bytes]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

COMMON: tuple[Header, ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
# JSON, text and files are never documents that run anything
API_CSP: Header = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
NO_STORE: Header = (b"cache-control", b"no-store")
# no includeSubDomains: the apps' own domains may sit under AutoStack's and serve plain http
HSTS: Header = (b"strict-transport-security", b"max-age=31536000")
STATIC_PREFIX = "/static/"
_ERROR_BODY = b'{"error": "internal error; see the server log"}'
_ADDED_NAMES = frozenset(name for name, _ in (*COMMON, API_CSP, NO_STORE, HSTS))


def page_csp(form_action: str) -> Header:
    """The pages' policy: no inline script or style anywhere, forms post here or to GitHub."""
    return (
        b"content-security-policy",
        (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"form-action 'self' {form_action}; frame-ancestors 'none'; base-uri 'none'"
        ).encode(),
    )


def plain_headers() -> tuple[Header, ...]:
    """The headers of an answer that is not a page (also used for the protocol's own refusals)."""
    return (*COMMON, API_CSP, NO_STORE)


class SecurityHeaders:
    """Adds the security headers to every HTTP answer of the wrapped app, including the 500 it
    sends itself when the app fails before answering."""

    def __init__(self, app: App, *, form_action: str, always_https: bool) -> None:
        self.app = app
        # (html, https, static) -> the headers to add: worked out once, the intake is the hot path
        self._added: dict[tuple[bool, bool, bool], tuple[Header, ...]] = {}
        for html in (False, True):
            for https in (False, True):
                for static in (False, True):
                    headers = [*COMMON, page_csp(form_action) if html else API_CSP]
                    if not static:
                        headers.append(NO_STORE)
                    if https or always_https:
                        headers.append(HSTS)
                    self._added[html, https, static] = tuple(headers)

    def headers_for(self, headers: list[Header], scope: Scope) -> list[Header]:
        """`headers` plus each security header the answer does not set itself."""
        html = clash = False
        for name, value in headers:
            name = name.lower()
            if name == b"content-type":
                html = value.startswith(b"text/html")
            elif name in _ADDED_NAMES:
                clash = True
        # read at answer time: the pages' proxy-header pass has set the scheme by then
        added = self._added[html, scope.get("scheme") == "https", scope["path"].startswith(STATIC_PREFIX)]
        if not clash:
            return [*headers, *added]
        present = {name.lower() for name, _ in headers}
        return [*headers, *(header for header in added if header[0] not in present)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = self.headers_for(message.get("headers", ()), scope)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            # uvicorn's own 500 would go out without the headers
            log.exception("unhandled error answering %s %s", scope.get("method"), scope["path"])
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_ERROR_BODY)).encode()),
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": _ERROR_BODY})
