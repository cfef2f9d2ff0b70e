"""Domains in Route53 (moto): the page offers the records where the zone is there, creating them
UPSERTs the TXT and the CNAME (at a zone apex: aliases of the ingress load balancer), removing
the domain removes them, and the activity log says so."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import select

from bot.domains.elb import LoadBalancers
from bot.domains.route53 import Record, Route53Zones, Zone, zone_for
from store.models import AuditEvent, Domain
from tests.aws_clients import unreachable
from tests.web.dns_server import dns_server

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
        if s["Type"] not in ("NS", "SOA") and "AliasTarget" not in s
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


@pytest.fixture
def load_balancers(route53):
    """An ELBv2 load balancer in front of the ingress (dualstack), inside the same moto account."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("ab")
    ]
    elbv2 = boto3.client("elbv2")
    elbv2.create_load_balancer(Name="other", Subnets=subnets, Type="application")
    ingress = elbv2.create_load_balancer(
        Name="ingress", Subnets=subnets, Type="network", IpAddressType="dualstack"
    )["LoadBalancers"][0]
    return LoadBalancers(elbv2=elbv2, elb=boto3.client("elb")), ingress


def alias_sets(client, zone_name: str) -> dict[tuple[str, str], dict]:
    zone = next(z for z in client.list_hosted_zones()["HostedZones"] if z["Name"] == zone_name + ".")
    sets = client.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    return {(s["Name"].rstrip("."), s["Type"]): s["AliasTarget"] for s in sets if "AliasTarget" in s}


async def test_a_zone_apex_gets_aliases_of_the_ingress_load_balancer(
    route53, load_balancers, as_role, seeded, web
):
    balancers, ingress = load_balancers
    web.dns_zones = Route53Zones(route53, balancers)
    admin = as_role("admin")
    await admin.post(
        "/projects/shop/domains/add", data={"csrf": CSRF, "hostname": "example.com", "verification": "cname"}
    )
    page = (await admin.get("/projects/shop/domains")).text
    assert "example.com ALIAS/ANAME shop.localhost" in page and "example.com CNAME" not in page
    with dns_server() as (zone, address):
        web.nameservers = address
        # *.APPS_DOMAIN is a CNAME to the ingress load balancer, as docs/eks.md sets it up
        zone.records[("shop.localhost", "CNAME")] = ingress["DNSName"]
        created = await admin.post(
            "/projects/shop/domains/route53", data={"csrf": CSRF, "hostname": "example.com"}
        )
        assert created.status_code == 303
        target = {
            "HostedZoneId": ingress["CanonicalHostedZoneId"],
            "DNSName": ingress["DNSName"],
            "EvaluateTargetHealth": False,
        }
        assert alias_sets(route53, "example.com") == {
            ("example.com", "A"): target,
            ("example.com", "AAAA"): target,
        }
        assert list(records_in(route53, "example.com")) == [("_autostack.example.com", "TXT")]

        zone_id = next(
            z["Id"] for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == "example.com."
        )
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
    # someone else's record under the same name is left alone; the aliases AutoStack made are gone
    assert records_in(route53, "example.com") == {("_autostack.example.com", "TXT"): ['"hand-made"']}
    assert alias_sets(route53, "example.com") == {}
    async with web.sessions() as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action.like("domain.%")))).all()
    made = next(e for e in events if e.action == "domain.route53")
    assert made.details["records"] == ["_autostack.example.com TXT", "example.com A", "example.com AAAA"]
    assert next(e for e in events if e.action == "domain.remove").details["route53_records_removed"] == 2


async def test_an_apex_without_its_load_balancer_gets_no_record_and_a_clear_error(
    route53, load_balancers, as_role, seeded, web
):
    web.dns_zones = Route53Zones(route53, load_balancers[0])
    admin = as_role("admin")
    await admin.post("/projects/shop/domains/add", data={"csrf": CSRF, "hostname": "example.com"})
    with dns_server() as (zone, address):
        web.nameservers = address
        zone.records[("shop.localhost", "CNAME")] = "somewhere-else.example.net"
        refused = await admin.post(
            "/projects/shop/domains/route53", data={"csrf": CSRF, "hostname": "example.com"}
        )
    assert refused.status_code == 409
    assert "no load balancer (ELBv2 or classic) is named somewhere-else.example.net" in refused.text
    assert records_in(route53, "example.com") == {} and alias_sets(route53, "example.com") == {}


async def test_route53_out_of_reach_is_shown_and_the_domain_kept_for_a_retry(as_role, seeded, web):
    web.dns_zones = Route53Zones(unreachable("route53"))
    admin = as_role("admin")
    await admin.post("/projects/shop/domains/add", data={"csrf": CSRF, "hostname": "a.example.com"})
    page = await admin.get("/projects/shop/domains")
    assert "listing hosted zones in Route53 failed" in page.text and "a.example.com" in page.text
    removed = await admin.post(
        "/projects/shop/domains/remove", data={"csrf": CSRF, "hostname": "a.example.com"}
    )
    assert removed.status_code == 503
    assert "Route53 is busy or out of reach, try again in a minute" in removed.text
    assert "a.example.com" in (await admin.get("/projects/shop/domains")).text


async def test_a_route53_refusal_is_a_bad_gateway_naming_the_code(route53, as_role, seeded, web):
    """The zone goes between listing and writing: Route53 answers NoSuchHostedZone, which trying
    again cannot fix."""

    class ZoneDeletedMeanwhile(Route53Zones):
        async def upsert(self, zone: Zone, records: list[Record]) -> None:
            route53.delete_hosted_zone(Id=zone.id)
            await super().upsert(zone, records)

    web.dns_zones = ZoneDeletedMeanwhile(route53)
    admin = as_role("admin")
    await admin.post(
        "/projects/shop/domains/add",
        data={"csrf": CSRF, "hostname": "www.shop.example.com", "environment": "production"},
    )
    refused = await admin.post(
        "/projects/shop/domains/route53", data={"csrf": CSRF, "hostname": "www.shop.example.com"}
    )
    assert refused.status_code == 502
    assert "NoSuchHostedZone" in refused.text and "try again" not in refused.text
