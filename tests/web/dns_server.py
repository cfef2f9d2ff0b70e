"""A DNS server on a loopback UDP port answering from a dict the test fills (dnslib)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dnslib import CNAME, QTYPE, RR, TXT
from dnslib.server import DNSServer

from tests.servers import free_port


class Zone:
    """Records by (name, type); answers NXDOMAIN-free empty replies for the rest."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], str] = {}

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        kind = QTYPE[request.q.qtype]
        value = self.records.get((name, kind))
        if value is not None:
            rdata = TXT(value) if kind == "TXT" else CNAME(value)
            reply.add_answer(RR(request.q.qname, request.q.qtype, rdata=rdata, ttl=1))
        return reply


@contextmanager
def dns_server() -> Iterator[tuple[Zone, tuple[str, int]]]:
    zone = Zone()
    port = free_port()
    server = DNSServer(zone, port=port, address="127.0.0.1", logger=_Quiet())
    server.start_thread()
    try:
        yield zone, ("127.0.0.1", port)
    finally:
        server.stop()
        server.server.server_close()  # dnslib leaves its socket open


class _Quiet:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None
