"""The ingress load balancer as Route53 aliases need it: its canonical hosted zone id, found by
its DNS name among the account's ELBv2 (ALB/NLB) and then classic load balancers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bot.aws_errors import AWSPermanentError, aws_failure


@dataclass(frozen=True)
class LoadBalancer:
    """What an alias record needs: where it points and the load balancer's own hosted zone."""

    dns_name: str
    zone_id: str
    dualstack: bool = False


def bare_name(dns_name: str) -> str:
    """A load balancer's DNS name as compared: lower case, no trailing dot, no "dualstack."."""
    return dns_name.rstrip(".").lower().removeprefix("dualstack.")


class LoadBalancers:
    """The load balancers of one region; every SDK call runs in a thread because boto3 blocks."""

    def __init__(self, region: str | None = None, elbv2: Any = None, elb: Any = None) -> None:
        self._region, self._elbv2, self._elb = region, elbv2, elb

    def _client(self, service: str) -> Any:
        # made on first use: most domains never need a load balancer looked up
        import boto3

        return boto3.client(service, region_name=self._region)

    async def _pages(self, service: str, key: str) -> list[dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        def read() -> list[dict[str, Any]]:
            client = self._elbv2 if service == "elbv2" else self._elb
            if client is None:
                client = self._client(service)
                setattr(self, "_elbv2" if service == "elbv2" else "_elb", client)
            pages = client.get_paginator("describe_load_balancers").paginate()
            return [balancer for page in pages for balancer in page[key]]

        try:
            return await asyncio.to_thread(read)
        except (BotoCoreError, ClientError) as exc:
            raise aws_failure(exc, f"listing {service} load balancers failed") from exc

    async def find(self, dns_name: str) -> LoadBalancer | None:
        """The load balancer named `dns_name` (ELBv2 first, then classic), None when there is none."""
        wanted = bare_name(dns_name)
        for found in await self._pages("elbv2", "LoadBalancers"):
            if bare_name(found["DNSName"]) == wanted:
                dualstack = found.get("IpAddressType", "ipv4").startswith("dualstack")
                return LoadBalancer(found["DNSName"].lower(), found["CanonicalHostedZoneId"], dualstack)
        for found in await self._pages("elb", "LoadBalancerDescriptions"):
            if bare_name(found["DNSName"]) == wanted:
                zone_id = found.get("CanonicalHostedZoneNameID")
                if not zone_id:
                    raise AWSPermanentError(
                        f"classic load balancer {found['LoadBalancerName']} "
                        "reports no canonical hosted zone id"
                    )
                return LoadBalancer(found["DNSName"].lower(), zone_id)
        return None
