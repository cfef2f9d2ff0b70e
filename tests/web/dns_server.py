"""A DNS server on a loopback UDP port answering from a dict the test fills (dnslib)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dnslib import AAAA, CNAME, QTYPE, RR, SOA, TXT, A
from dnslib.server import DNSServer

from tests.servers import free_port

RDATA = {
    "TXT": TXT,
    "CNAME": CNAME,
    "A": A,
    "AAAA": AAAA,
    "SOA": lambda name: SOA(name, f"hostmaster.{name}", (1, 3600, 600, 86400, 60)),
}


class Zone:
    """Records by (name, type), one value or a list (A records); empty replies for the rest."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], str | list[str]] = {}

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        kind = QTYPE[request.q.qtype]
        value = self.records.get((name, kind))
        for one in [value] if isinstance(value, str) else value or []:
            reply.add_answer(RR(request.q.qname, request.q.qtype, rdata=RDATA[kind](one), ttl=1))
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
