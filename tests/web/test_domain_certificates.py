"""The domains page's certificate column, asked of the target: the local target's plain http, a
target reporting cert-manager states, and a target that cannot be reached."""

from __future__ import annotations

from datetime import UTC, datetime

from deployer.targets.base import CertificateState
from deployer.targets.kubernetes.errors import ClusterTemporaryError
from deployer.targets.local.target import LocalTarget
from store.models import Domain


async def _domains(web, seeded, *rows):
    async with web.sessions.begin() as session:
        for hostname, environment, state in rows:
            session.add(
                Domain(
                    project_id=seeded.project_id,
                    environment=environment,
                    hostname=hostname,
                    token="t",
                    state=state,
                )
            )


def _cell(page: str, hostname: str) -> str:
    row = page.split(f'data-domain="{hostname}"')[1].split("</tr>")[0]
    return row.split('<td class="certificate">')[1].split("</td>")[0]


async def test_local_target_says_plain_http(as_role, seeded, web, tmp_path):
    web.deploy.target = LocalTarget(tmp_path / "local", router_port=0)
    await _domains(web, seeded, ("www.example.com", "production", "verified"))
    page = await as_role("viewer").get("/projects/shop/domains")
    assert page.status_code == 200
    assert _cell(page.text, "www.example.com") == (
        '<span class="cert http">http</span><br><small>served over http by the local router</small>'
    )


async def test_cert_manager_states_per_domain(as_role, seeded, web):
    web.deploy.target.certs = {
        "www.example.com": CertificateState(
            "issued", "valid until 2026-04-01", datetime(2026, 4, 1, tzinfo=UTC)
        ),
        "pr.example.com": CertificateState(
            "pending", "DoesNotExist: Issuing certificate as Secret does not exist"
        ),
        "bad.example.com": CertificateState("failed", "Failed: 429 urn:ietf:params:acme:error:rateLimited"),
    }
    await _domains(
        web,
        seeded,
        ("www.example.com", "production", "verified"),
        ("pr.example.com", "pr-1", "verified"),
        ("bad.example.com", "production", "verified"),
        ("none.example.com", "production", "verified"),
        ("new.example.com", "production", "pending"),
    )
    page = (await as_role("viewer").get("/projects/shop/domains")).text
    assert _cell(page, "www.example.com").startswith('<span class="cert issued">issued</span>')
    assert "valid until 2026-04-01" in _cell(page, "www.example.com")
    assert "pending</span><br><small>DoesNotExist: Issuing certificate" in _cell(page, "pr.example.com")
    assert "failed</span><br><small>Failed: 429" in _cell(page, "bad.example.com")
    assert _cell(page, "none.example.com") == '<span class="cert none">none</span>'
    assert _cell(page, "new.example.com") == "—"  # not routed yet: no certificate is asked for


async def test_unreachable_cluster_is_shown_not_a_500(as_role, seeded, web):
    web.deploy.target.certs_error = ClusterTemporaryError(
        "listing cert-manager Certificates in autostack-shop: timed out"
    )
    await _domains(web, seeded, ("www.example.com", "production", "verified"))
    page = await as_role("viewer").get("/projects/shop/domains")
    assert page.status_code == 200
    assert "unavailable</span><br><small>could not read it: listing cert-manager Certificates" in _cell(
        page.text, "www.example.com"
    )
