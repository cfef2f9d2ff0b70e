"""Bounds on slow, idle and greedy HTTP clients, built into uvicorn's httptools protocol.

uvicorn times only the keep-alive pause after an answer: a client that connects and sends
nothing, trickles its headers a byte at a time or stalls in its body holds its socket for
ever, httptools buffers headers of any size, and `limit_concurrency` answers 503 once the
request is parsed instead of bounding sockets. This protocol adds, per connection:

- a header deadline: from connecting (or from the first byte after an answer) to the end of
  the headers, HttpLimits.header_timeout; past it the client gets 408 (or, having sent
  nothing, is just closed);
- a body deadline: HttpLimits.body_timeout for the whole body, one second more for every
  BODY_GRACE_BYTES received, so a large upload at a real rate always finishes; past it the
  client gets 408 and the app sees the client gone (the intake then stores nothing);
- a header size cap (431) and a cap on open connections (503 and closed at once).
"""

from __future__ import annotations

import dataclasses
import logging
import resource
import time
from asyncio import TimerHandle, Transport
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from bot.http_settings import HttpLimits
from bot.security_headers import plain_headers

log = logging.getLogger("autostack.http")

BODY_GRACE_BYTES = 64 * 1024
# files `serve` needs besides client sockets: database, Redis, the apps' pipes, logs
FILE_RESERVE = 1024
REFUSAL_LOG_INTERVAL = 10.0

_HEADERS, _BODY, _APP = "headers", "body", "app"
_REFUSAL_HEADERS = b"".join(name + b": " + value + b"\r\n" for name, value in plain_headers())


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header and body deadlines and size and socket caps."""

    limits: ClassVar[HttpLimits] = HttpLimits()
    _refused: ClassVar[int] = 0
    _refusals_logged_at: ClassVar[float] = float("-inf")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # _HEADERS: waiting for or reading a request's headers; _BODY: reading its body;
        # _APP: the request is in, the app has not answered yet (nothing is timed then)
        self._phase = _HEADERS
        self._header_bytes = 0
        self._headers_seen = 0
        self._body_start = 0.0
        self._body_bytes = 0
        self._deadline: TimerHandle | None = None

    # uvicorn's protocol narrows asyncio's BaseTransport to Transport (and ignores it too)
    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(503, "too many open connections; retry later")
            self._log_refusal()
            return
        self._arm(self.limits.header_timeout, self._header_timed_out)

    @classmethod
    def _log_refusal(cls) -> None:
        # a flood refuses thousands a second: one line per interval, with the count
        cls._refused += 1
        now = time.monotonic()
        if now - cls._refusals_logged_at >= REFUSAL_LOG_INTERVAL:
            log.warning(
                "refused %d connections: HTTP_MAX_CONNECTIONS=%d are open",
                cls._refused,
                cls.limits.max_connections,
            )
            cls._refused, cls._refusals_logged_at = 0, now

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._phase != _BODY:
            room = self.limits.max_header_bytes - self._header_bytes
            if len(data) > room:
                self._feed_past_cap(data, max(room, 0))
                return
            self._header_bytes += len(data)
        super().data_received(data)
        if self._deadline is None and not self.transport.is_closing():
            # uvicorn dropped its keep-alive timer on this data: a new request has begun
            if self._phase == _HEADERS:
                self._arm(self.limits.header_timeout, self._header_timed_out)
            elif self._phase == _BODY:
                self._arm(self.limits.body_timeout, self._check_body)

    def _feed_past_cap(self, data: bytes, room: int) -> None:
        seen = self._headers_seen
        if room:
            self._header_bytes += room
            super().data_received(data[:room])
        if self.transport.is_closing():
            return
        if self._headers_seen == seen:
            self._refuse(431, f"request headers are larger than {self.limits.max_header_bytes} bytes")
            return
        self.data_received(data[room:])

    def send_400_response(self, msg: str) -> None:
        """The malformed-request answer, with the security headers."""
        self._refuse(400, msg)

    # parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = _HEADERS

    def on_headers_complete(self) -> None:
        self._disarm()
        self._headers_seen += 1
        self._header_bytes = 0
        self._phase = _BODY
        self._body_start = self.loop.time()
        self._body_bytes = 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        # an app that answered before reading the whole body is done: the next request is due
        answered = self.cycle is not None and self.cycle.response_complete
        self._phase = _HEADERS if answered else _APP
        self._header_bytes = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self._phase == _APP:
            self._phase = _HEADERS
            self._header_bytes = 0
        super().on_response_complete()

    # deadlines
    def _arm(self, delay: float, callback: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _header_timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._header_bytes == 0:
            self.transport.close()  # connected and sent nothing: nobody to answer
            return
        self._refuse(408, f"request headers took longer than {self.limits.header_timeout:g} s")

    def _check_body(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        if self.flow.read_paused:
            # the app is not reading yet, the client is not at fault: its clock starts again
            self._body_start, self._body_bytes = now, 0
            self._arm(self.limits.body_timeout, self._check_body)
            return
        due = self._body_start + self.limits.body_timeout + self._body_bytes / BODY_GRACE_BYTES
        if now < due:
            self._deadline = self.loop.call_at(due, self._check_body)
            return
        self._refuse(408, f"request body took longer than {self.limits.body_timeout:g} s")

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` and close; a request still inside the app sees its client gone."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:  # half an answer is out: nothing more can be said
                self.transport.close()
                return
            cycle.disconnected = True
            cycle.message_event.set()
        body = message.encode()
        head = [STATUS_LINE[status], _REFUSAL_HEADERS]
        head.extend(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers)
        head.append(
            b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % len(body)
        )
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def guarded_protocol(limits: HttpLimits) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for uvicorn's `http=` with these limits."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})


def raise_open_file_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards `wanted`; returns the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return wanted
    new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if new > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return max(new, soft)


def fit_open_file_limit(limits: HttpLimits) -> HttpLimits:
    """`limits` with the open-file limit raised to hold max_connections sockets, or with
    max_connections lowered (and a warning) when the hard limit cannot be raised that far."""
    files = raise_open_file_limit(limits.max_connections + FILE_RESERVE)
    room = max(files - FILE_RESERVE, files // 2)
    if room >= limits.max_connections:
        return limits
    log.warning(
        "HTTP_MAX_CONNECTIONS=%d lowered to %d: this process may open only %d files (ulimit -n)",
        limits.max_connections,
        room,
        files,
    )
    return dataclasses.replace(limits, max_connections=room)
