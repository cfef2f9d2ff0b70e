"""What the custom-domain subsystem needs from outside: a router for verified domains and the DNS
provider holding customers' zones."""

from __future__ import annotations

from typing import Any, Protocol


class DomainRouting(Protocol):
    """Where a verified domain's traffic goes (the local router by Host header)."""

    def add(self, hostname: str, project: str, environment: str) -> None: ...
    def remove(self, hostname: str) -> None: ...


class DnsZones(Protocol):
    """The DNS provider holding customers' zones (Route53), where records can be made for them."""

    async def zones(self) -> list[Any]: ...
    async def upsert(self, zone: Any, records: list[Any]) -> None: ...
    async def delete(self, zone: Any, records: list[Any]) -> int: ...
    async def load_balancer(self, dns_name: str) -> Any: ...
