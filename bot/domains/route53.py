"""Route53 for custom domains: find the hosted zone a domain lives in, create its verification
TXT and its CNAME to the environment's host (at a zone apex: A/AAAA aliases of the ingress load
balancer), and take them away again (boto3 stays in here and in elb.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bot.aws_errors import AWSPermanentError, aws_failure
from bot.domains.elb import LoadBalancer, LoadBalancers, bare_name


@dataclass(frozen=True)
class Zone:
    """A hosted zone: its id and its name without the trailing dot."""

    id: str
    name: str


class NoLoadBalancer(AWSPermanentError):
    """No load balancer answers to the ingress host, so no alias can be made for a zone apex."""


@dataclass(frozen=True)
class Record:
    """One record set AutoStack manages: TXT values are stored quoted, as Route53 wants them; with
    `alias_zone` it is an alias whose value is the load balancer's DNS name."""

    name: str
    type: str
    value: str
    alias_zone: str | None = None

    def change(self, action: str) -> dict[str, Any]:
        """The change_resource_record_sets entry for this record."""
        record: dict[str, Any] = {"Name": self.name, "Type": self.type}
        if self.alias_zone is not None:
            record["AliasTarget"] = {
                "HostedZoneId": self.alias_zone,
                "DNSName": self.value,
                "EvaluateTargetHealth": False,
            }
        else:
            record.update(TTL=300, ResourceRecords=[{"Value": self.value}])
        return {"Action": action, "ResourceRecordSet": record}

    def matches(self, found: dict[str, Any]) -> bool:
        """Whether a record set read from Route53 is this one (same name, type and value)."""
        if found["Name"].rstrip(".").lower() != self.name.lower() or found["Type"] != self.type:
            return False
        if self.alias_zone is not None:
            # Route53 may keep an ELB alias with the "dualstack." prefix and a trailing dot
            return bare_name(found.get("AliasTarget", {}).get("DNSName", "")) == bare_name(self.value)
        values = [v["Value"].rstrip(".") for v in found.get("ResourceRecords", [])]
        return values == [self.value.rstrip(".")]


def zone_for(hostname: str, zones: list[Zone]) -> Zone | None:
    """The longest zone `hostname` is in or is the apex of (a delegated subzone wins)."""
    host = hostname.lower().rstrip(".")
    matching = [z for z in zones if host == z.name or host.endswith("." + z.name)]
    return max(matching, key=lambda z: len(z.name), default=None)


def domain_records(hostname: str, txt_host: str, txt_value: str, target: str) -> list[Record]:
    """The TXT that proves ownership and the CNAME that routes the domain to `target`."""
    return [Record(txt_host, "TXT", f'"{txt_value}"'), Record(hostname, "CNAME", target)]


def apex_records(hostname: str, txt_host: str, txt_value: str, balancer: LoadBalancer) -> list[Record]:
    """The TXT and, as a CNAME cannot sit at a zone apex, A (and AAAA when the load balancer
    serves IPv6) aliases of the ingress load balancer."""
    kinds = ("A", "AAAA") if balancer.dualstack else ("A",)
    aliases = [Record(hostname, kind, balancer.dns_name, balancer.zone_id) for kind in kinds]
    return [Record(txt_host, "TXT", f'"{txt_value}"'), *aliases]


class Route53Zones:
    """The account's hosted zones; every SDK call runs in a thread because boto3 blocks."""

    def __init__(self, client: Any = None, load_balancers: LoadBalancers | None = None) -> None:
        if client is None:
            # boto3 costs ~25 MB of memory; only a server configured for AWS loads it
            import boto3

            client = boto3.client("route53")
        self._client = client
        self._balancers = load_balancers or LoadBalancers()

    async def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(getattr(self._client, method), **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise aws_failure(exc, f"{what} in Route53 failed") from exc

    async def zones(self) -> list[Zone]:
        """Every public hosted zone of the account."""
        found: list[Zone] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = await self._call("listing hosted zones", "list_hosted_zones", **kwargs)
            for zone in page["HostedZones"]:
                if not zone.get("Config", {}).get("PrivateZone"):
                    found.append(Zone(zone["Id"].rsplit("/", 1)[-1], zone["Name"].rstrip(".").lower()))
            if not page.get("IsTruncated"):
                return found
            kwargs = {"Marker": page["NextMarker"]}

    async def load_balancer(self, dns_name: str) -> LoadBalancer:
        """The load balancer whose DNS name is `dns_name`, or NoLoadBalancer saying none is."""
        found = await self._balancers.find(dns_name)
        if found is None:
            raise NoLoadBalancer(
                f"no load balancer (ELBv2 or classic) is named {dns_name}, so AutoStack cannot make "
                "an alias for the zone apex; point *.APPS_DOMAIN at the ingress load balancer with a "
                "CNAME, or create the apex's ALIAS record yourself"
            )
        return found

    async def upsert(self, zone: Zone, records: list[Record]) -> None:
        """Create the records, or overwrite what is there under the same name and type."""
        await self._call(
            f"creating records in {zone.name}",
            "change_resource_record_sets",
            HostedZoneId=zone.id,
            ChangeBatch={
                "Comment": "AutoStack custom domain",
                "Changes": [r.change("UPSERT") for r in records],
            },
        )

    async def delete(self, zone: Zone, records: list[Record]) -> int:
        """Delete those of `records` that exist with exactly our value (someone else's record under
        the same name is left alone); return how many went."""
        present: list[dict[str, Any]] = []
        for record in records:
            page = await self._call(
                f"reading {record.name}",
                "list_resource_record_sets",
                HostedZoneId=zone.id,
                StartRecordName=record.name,
                StartRecordType=record.type,
                MaxItems="1",
            )
            for found in page["ResourceRecordSets"]:
                if record.matches(found):
                    # deleted as found: a DELETE must match the TTL too, which someone may have changed
                    present.append(found)
        if present:
            await self._call(
                f"deleting records in {zone.name}",
                "change_resource_record_sets",
                HostedZoneId=zone.id,
                ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": f} for f in present]},
            )
        return len(present)
