"""Each example app deploys for real on the local target and serves its page via the router."""

from __future__ import annotations

import pytest

from tests.deployer.conftest import EXAMPLES

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("example", "framework", "text"),
    [
        ("static", "static", "Hello from a static site"),
        ("flask", "flask", "Hello from Flask"),
        ("fastapi", "fastapi", "Hello from FastAPI"),
        ("express", "node", "Hello from Express"),
    ],
)
async def test_example_deploys_and_serves_its_page(deployer, sink, example, framework, text):
    row = await deployer.deploy(EXAMPLES / example, project=f"ex-{example}")

    assert row.state == "ready", row.reason
    assert row.framework == framework
    assert row.url == f"http://ex-{example}.localhost:{deployer.target.router_port}"
    page = await deployer.get(f"ex-{example}")
    assert page.status_code == 200
    assert text in page.text
    assert sink.phases(row.id) == [
        "source",
        "config",
        "detect",
        "install",
        "build",
        "start",
        "health",
        "switch",
    ]
    finished = sink.finished(row.id)
    assert finished.outcome == "success" and finished.facts["framework"] == framework
