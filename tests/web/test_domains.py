"""Domains: DNS verdicts (TXT, CNAME, apex A records), verification against a local DNS server,
routing kept in step with the database, removal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.domains.checks import DnsCheck, RouteSync, verify_pending
from bot.domains.dns import DnsRecords, canonical_name, lookup, txt_value, verdict
from bot.web.traffic import LocalDomainRouting, site_of
from deployer.targets.local.router import Router
from store.models import AuditEvent, Domain
from tests.web.dns_server import dns_server

CSRF = "test-csrf"


@pytest.mark.parametrize(
    ("method", "records", "missing"),
    [
        ("txt", DnsRecords(txt=(txt_value("tok"),)), None),
        (
            "txt",
            DnsRecords(txt=("other",)),
            'TXT _autostack.a.example.com = "autostack-verify=tok" not found',
        ),
        ("txt", DnsRecords(), 'TXT _autostack.a.example.com = "autostack-verify=tok" not found'),
        ("cname", DnsRecords(cname="shop.apps.example.net."), None),
        ("cname", DnsRecords(cname="SHOP.apps.example.net"), None),
        (
            "cname",
            DnsRecords(cname="elsewhere.net."),
            "CNAME a.example.com → shop.apps.example.net not found (it points to elsewhere.net)",
        ),
        ("cname", DnsRecords(), "CNAME a.example.com → shop.apps.example.net not found"),
    ],
)
def test_verdict(method, records, missing):
    assert verdict(method, "a.example.com", "tok", "shop.apps.example.net", records) == missing


INGRESS = ("192.0.2.1", "192.0.2.2")
WANTED = "ALIAS/ANAME example.com → shop.apps.example.net (or A records 192.0.2.1, 192.0.2.2)"


@pytest.mark.parametrize(
    ("method", "records", "ingress", "missing"),
    [
        ("alias", DnsRecords(a=("192.0.2.2", "192.0.2.1")), INGRESS, None),
        ("cname", DnsRecords(a=INGRESS, apex=True), INGRESS, None),
        # a flattened CNAME off the apex proves it just as well
        ("cname", DnsRecords(a=INGRESS), INGRESS, None),
        ("alias", DnsRecords(cname="shop.apps.example.net."), INGRESS, None),
        ("alias", DnsRecords(a=("192.0.2.1",)), INGRESS, f"{WANTED} not found (it answers 192.0.2.1)"),
        (
            "alias",
            DnsRecords(a=("192.0.2.1", "192.0.2.2", "198.51.100.7")),
            INGRESS,
            f"{WANTED} not found (it answers 192.0.2.1, 192.0.2.2, 198.51.100.7)",
        ),
        ("alias", DnsRecords(), INGRESS, f"{WANTED} not found"),
        ("cname", DnsRecords(apex=True), INGRESS, f"{WANTED} not found"),
        (
            "alias",
            DnsRecords(a=INGRESS),
            (),
            "ALIAS/ANAME example.com → shop.apps.example.net cannot be checked: "
            "shop.apps.example.net has no A records yet",
        ),
        (
            "alias",
            DnsRecords(),
            (),
            "ALIAS/ANAME example.com → shop.apps.example.net cannot be checked: "
            "shop.apps.example.net has no A records yet",
        ),
        (
            "txt",
            DnsRecords(a=INGRESS, apex=True),
            INGRESS,
            'TXT _autostack.example.com = "autostack-verify=tok" not found',
        ),
        ("txt", DnsRecords(txt=(txt_value("tok"),), apex=True), (), None),
    ],
)
def test_apex_verdict(method, records, ingress, missing):
    assert verdict(method, "example.com", "tok", "shop.apps.example.net", records, ingress) == missing


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("shop.localhost", ("shop", "production")),
        ("pr-7--shop.localhost", ("shop", "pr-7")),
        ("feature-x--shop.localhost", ("shop", "branch-feature-x")),
        ("example.com", None),
        ("a.b.localhost", None),
    ],
)
def test_site_of(host, site):
    assert site_of(host, "localhost") == site


def test_router_alias_routes_a_custom_domain():
    router = Router()
    router.route("shop.localhost", "http://127.0.0.1:9")
    routing = LocalDomainRouting(router)
    routing.add("www.example.com", "shop", "production")
    assert router.routes[router.aliases["www.example.com"]].address == "http://127.0.0.1:9"
    routing.remove("www.example.com")
    assert "www.example.com" not in router.aliases


async def test_lookup_reads_txt_and_cname():
    with dns_server() as (zone, address):
        zone.records[("_autostack.a.example.com", "TXT")] = "autostack-verify=abc"
        zone.records[("b.example.com", "CNAME")] = "shop.localhost"
        assert (await lookup("a.example.com", address)).txt == ("autostack-verify=abc",)
        assert (await lookup("b.example.com", address)).cname == "shop.localhost."
        assert await lookup("c.example.com", address) == DnsRecords()
        zone.records[("example.com", "A")] = ["192.0.2.2", "192.0.2.1"]
        zone.records[("example.com", "SOA")] = "ns.example.com"
        apex = await lookup("example.com", address, addresses=True)
        assert apex == DnsRecords(a=("192.0.2.1", "192.0.2.2"), apex=True)
        assert (await lookup("b.example.com", address, addresses=True)).apex is False
        zone.records[("shop.localhost", "CNAME")] = "ingress.example.net"
        zone.records[("ingress.example.net", "CNAME")] = "LB-1.us-east-1.elb.amazonaws.com"
        assert await canonical_name("shop.localhost", address) == "lb-1.us-east-1.elb.amazonaws.com"
        assert await canonical_name("c.example.com", address) == "c.example.com"


async def test_domain_pending_then_verified_and_routed(as_role, seeded, web):
    router = Router()
    web.routing = LocalDomainRouting(router)
    admin = as_role("admin")
    added = await admin.post(
        "/projects/shop/domains/add",
        data={"csrf": CSRF, "hostname": "WWW.Example.com", "environment": "production"},
    )
    assert added.status_code == 303
    with dns_server() as (zone, address):
        web.nameservers = address
        page = (await admin.get("/projects/shop/domains")).text
        assert "pending" in page and "_autostack.www.example.com" in page
        assert await verify_pending(web.sessions, DnsCheck(web.settings.apps_domain, web.nameservers)) == []
        async with web.sessions() as session:
            domain = (await session.scalars(select(Domain))).one()
        assert "not found" in domain.last_error
        zone.records[("_autostack.www.example.com", "TXT")] = txt_value(domain.token)
        await admin.post("/projects/shop/domains/verify", data={"csrf": CSRF, "hostname": "www.example.com"})
    page = (await admin.get("/projects/shop/domains")).text
    assert 'class="state verified"' in page
    assert router.aliases["www.example.com"] == "shop.localhost"
    removed = await admin.post(
        "/projects/shop/domains/remove", data={"csrf": CSRF, "hostname": "www.example.com"}
    )
    assert removed.status_code == 303 and "www.example.com" not in router.aliases


async def test_bad_or_duplicate_domain_is_explained(as_role, seeded):
    admin = as_role("admin")
    bad = await admin.post("/projects/shop/domains/add", data={"csrf": CSRF, "hostname": "not a domain"})
    assert bad.status_code == 400 and "is not a domain name" in bad.text
    await admin.post("/projects/shop/domains/add", data={"csrf": CSRF, "hostname": "x.example.com"})
    again = await admin.post("/projects/shop/domains/add", data={"csrf": CSRF, "hostname": "x.example.com"})
    assert again.status_code == 409


async def test_an_apex_added_as_cname_is_verified_by_its_a_records(as_role, seeded, web):
    admin = as_role("admin")
    await admin.post(
        "/projects/shop/domains/add", data={"csrf": CSRF, "hostname": "example.com", "verification": "cname"}
    )
    with dns_server() as (zone, address):
        web.nameservers = address
        zone.records[("example.com", "SOA")] = "ns.example.com"
        zone.records[("shop.localhost", "A")] = ["192.0.2.1", "192.0.2.2"]
        zone.records[("example.com", "A")] = "192.0.2.1"
        assert await verify_pending(web.sessions, DnsCheck(web.settings.apps_domain, web.nameservers)) == []
        page = (await admin.get("/projects/shop/domains")).text
        # found to be a zone apex: the page now asks for an ALIAS rather than an impossible CNAME
        assert "example.com ALIAS/ANAME shop.localhost" in page and "CNAME shop.localhost" not in page
        assert "it answers 192.0.2.1" in page
        zone.records[("example.com", "A")] = ["192.0.2.2", "192.0.2.1"]
        assert (
            len(await verify_pending(web.sessions, DnsCheck(web.settings.apps_domain, web.nameservers))) == 1
        )
    async with web.sessions() as session:
        domain = (await session.scalars(select(Domain))).one()
        event = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "domain.verified"))
        ).one()
    assert (domain.state, domain.verification) == ("verified", "alias")
    assert (event.actor, event.team_id, event.target) == ("autostack", seeded.team_id, "example.com")


async def test_routes_follow_the_database_in_every_process(as_role, seeded, web):
    # two processes' routers: a domain verified by the worker reaches both, a removal leaves both
    routers = [Router(), Router()]
    syncs = [RouteSync(web.sessions, LocalDomainRouting(router)) for router in routers]
    admin = as_role("admin")
    await admin.post("/projects/shop/domains/add", data={"csrf": CSRF, "hostname": "www.example.com"})
    with dns_server() as (zone, address):
        async with web.sessions() as session:
            token = (await session.scalars(select(Domain.token))).one()
        zone.records[("_autostack.www.example.com", "TXT")] = txt_value(token)
        assert len(await verify_pending(web.sessions, DnsCheck(None, address))) == 1
    for sync, router in zip(syncs, routers, strict=True):
        assert "www.example.com" not in router.aliases
        await sync.sync()
        assert router.aliases["www.example.com"] == "shop.localhost"
    await admin.post("/projects/shop/domains/remove", data={"csrf": CSRF, "hostname": "www.example.com"})
    for sync, router in zip(syncs, routers, strict=True):
        await sync.sync()
        assert "www.example.com" not in router.aliases
