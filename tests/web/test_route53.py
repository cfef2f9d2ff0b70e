"""Domains in Route53 (moto): the page offers the records where the zone is there, creating them
UPSERTs the TXT and the CNAME, removing the domain removes them, and the activity log says so."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import select

from bot.web.route53 import Route53Zones, Zone, zone_for
from store.models import AuditEvent, Domain

CSRF = "test-csrf"


@pytest.fixture
def route53(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("route53")
        for name in ("example.com", "shop.example.com"):
            client.create_hosted_zone(Name=name, CallerReference=name)
        yield client


def records_in(client, zone_name: str) -> dict[tuple[str, str], list[str]]:
    zone = next(z for z in client.list_hosted_zones()["HostedZones"] if z["Name"] == zone_name + ".")
    sets = client.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    return {
        (s["Name"].rstrip("."), s["Type"]): [r["Value"] for r in s.get("ResourceRecords", [])]
        for s in sets
        if s["Type"] not in ("NS", "SOA")
    }


def test_the_longest_matching_zone_wins():
    zones = [Zone("1", "example.com"), Zone("2", "shop.example.com"), Zone("3", "ample.com")]
    assert zone_for("www.shop.example.com", zones) == Zone("2", "shop.example.com")
    assert zone_for("api.example.com.", zones) == Zone("1", "example.com")
    assert zone_for("example.com", zones) == Zone("1", "example.com")
    assert zone_for("other.org", zones) is None


async def test_create_records_in_route53_then_remove_them(route53, as_role, seeded, web):
    web.dns_zones = Route53Zones(route53)
    admin = as_role("admin")
    for host in ("www.shop.example.com", "app.other.org"):
        await admin.post(
            "/projects/shop/domains/add", data={"csrf": CSRF, "hostname": host, "environment": "production"}
        )
    page = (await admin.get("/projects/shop/domains")).text
    assert page.count("Create records in Route53") == 1
    assert "Create records in Route53 (shop.example.com)" in page

    created = await admin.post(
        "/projects/shop/domains/route53", data={"csrf": CSRF, "hostname": "www.shop.example.com"}
    )
    assert created.status_code == 303
    async with web.sessions() as session:
        token = (await session.scalars(select(Domain.token).where(Domain.hostname.like("www.%")))).one()
    assert records_in(route53, "shop.example.com") == {
        ("_autostack.www.shop.example.com", "TXT"): [f'"autostack-verify={token}"'],
        ("www.shop.example.com", "CNAME"): ["shop.localhost"],
    }
    assert records_in(route53, "example.com") == {}

    # a second click overwrites rather than failing on existing records
    again = await admin.post(
        "/projects/shop/domains/route53", data={"csrf": CSRF, "hostname": "www.shop.example.com"}
    )
    assert again.status_code == 303

    removed = await admin.post(
        "/projects/shop/domains/remove", data={"csrf": CSRF, "hostname": "www.shop.example.com"}
    )
    assert removed.status_code == 303
    assert records_in(route53, "shop.example.com") == {}
    assert "www.shop.example.com" not in (await admin.get("/projects/shop/domains")).text
    async with web.sessions() as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action.like("domain.%")))).all()
    made = [e for e in events if e.action == "domain.route53"]
    assert len(made) == 2 and made[0].details["zone"] == "shop.example.com"
    assert made[0].details["records"] == [
        "_autostack.www.shop.example.com TXT",
        "www.shop.example.com CNAME",
    ]
    gone = next(e for e in events if e.action == "domain.remove")
    assert gone.details["route53_records_removed"] == 2


async def test_someone_elses_record_is_left_alone_and_a_zone_apex_gets_no_cname(
    route53, as_role, seeded, web
):
    web.dns_zones = Route53Zones(route53)
    admin = as_role("admin")
    await admin.post("/projects/shop/domains/add", data={"csrf": CSRF, "hostname": "example.com"})
    await admin.post("/projects/shop/domains/route53", data={"csrf": CSRF, "hostname": "example.com"})
    assert list(records_in(route53, "example.com")) == [("_autostack.example.com", "TXT")]

    zone_id = next(z["Id"] for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == "example.com.")
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "_autostack.example.com",
                        "Type": "TXT",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": '"hand-made"'}],
                    },
                }
            ]
        },
    )
    await admin.post("/projects/shop/domains/remove", data={"csrf": CSRF, "hostname": "example.com"})
    assert records_in(route53, "example.com") == {("_autostack.example.com", "TXT"): ['"hand-made"']}


async def test_a_route53_failure_is_shown_and_the_domain_kept(as_role, seeded, web):
    class Broken:
        async def zones(self):
            from bot.web.route53 import Route53Error

            raise Route53Error("listing hosted zones in Route53 failed: AccessDenied")

    web.dns_zones = Broken()
    admin = as_role("admin")
    await admin.post("/projects/shop/domains/add", data={"csrf": CSRF, "hostname": "a.example.com"})
    page = await admin.get("/projects/shop/domains")
    assert "AccessDenied" in page.text and "a.example.com" in page.text
    removed = await admin.post(
        "/projects/shop/domains/remove", data={"csrf": CSRF, "hostname": "a.example.com"}
    )
    assert removed.status_code == 502 and "AccessDenied" in removed.text
    assert "a.example.com" in (await admin.get("/projects/shop/domains")).text
