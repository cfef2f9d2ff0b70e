"""Domains: DNS verdicts, verification against a local DNS server, routing, removal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.web.dns_check import Records, lookup, txt_value, verdict
from bot.web.domains import verify_pending
from bot.web.traffic import LocalDomainRouting, site_of
from deployer.targets.local.router import Router
from store.models import Domain
from tests.web.dns_server import dns_server

CSRF = "test-csrf"


@pytest.mark.parametrize(
    ("method", "records", "missing"),
    [
        ("txt", Records(txt=(txt_value("tok"),)), None),
        ("txt", Records(txt=("other",)), 'TXT _autostack.a.example.com = "autostack-verify=tok" not found'),
        ("txt", Records(), 'TXT _autostack.a.example.com = "autostack-verify=tok" not found'),
        ("cname", Records(cname="shop.apps.example.net."), None),
        ("cname", Records(cname="SHOP.apps.example.net"), None),
        (
            "cname",
            Records(cname="elsewhere.net."),
            "CNAME a.example.com → shop.apps.example.net not found (it points to elsewhere.net)",
        ),
        ("cname", Records(), "CNAME a.example.com → shop.apps.example.net not found"),
    ],
)
def test_verdict(method, records, missing):
    assert verdict(method, "a.example.com", "tok", "shop.apps.example.net", records) == missing


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
        assert await lookup("c.example.com", address) == Records()


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
        assert await verify_pending(web) == 0
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
