"""Route53 for custom domains: find the hosted zone a domain lives in, create its verification
TXT and its CNAME to the environment's host, and take them away again (boto3 stays in here)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any


class Route53Error(Exception):
    """Route53 refused or could not be reached; the message says what was being done."""


@dataclass(frozen=True)
class Zone:
    """A hosted zone: its id and its name without the trailing dot."""

    id: str
    name: str


@dataclass(frozen=True)
class Record:
    """One record set AutoStack manages: TXT values are stored quoted, as Route53 wants them."""

    name: str
    type: str
    value: str

    def change(self, action: str) -> dict[str, Any]:
        """The change_resource_record_sets entry for this record."""
        return {
            "Action": action,
            "ResourceRecordSet": {
                "Name": self.name,
                "Type": self.type,
                "TTL": 300,
                "ResourceRecords": [{"Value": self.value}],
            },
        }


def zone_for(hostname: str, zones: list[Zone]) -> Zone | None:
    """The longest zone `hostname` is in or is the apex of (a delegated subzone wins)."""
    host = hostname.lower().rstrip(".")
    matching = [z for z in zones if host == z.name or host.endswith("." + z.name)]
    return max(matching, key=lambda z: len(z.name), default=None)


def domain_records(hostname: str, txt_host: str, txt_value: str, target: str) -> list[Record]:
    """The TXT that proves ownership and the CNAME that routes the domain to `target`."""
    return [Record(txt_host, "TXT", f'"{txt_value}"'), Record(hostname, "CNAME", target)]


class Route53Zones:
    """The account's hosted zones; every SDK call runs in a thread because boto3 blocks."""

    def __init__(self, client: Any = None) -> None:
        if client is None:
            # boto3 costs ~25 MB of memory; only a server configured for AWS loads it
            import boto3

            client = boto3.client("route53")
        self._client = client

    async def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(getattr(self._client, method), **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise Route53Error(f"{what} in Route53 failed: {exc}") from exc

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
                values = [v["Value"].rstrip(".") for v in found.get("ResourceRecords", [])]
                same_name = found["Name"].rstrip(".").lower() == record.name.lower()
                if same_name and found["Type"] == record.type and values == [record.value.rstrip(".")]:
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
