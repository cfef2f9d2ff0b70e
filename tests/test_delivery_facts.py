"""The facts stored beside a delivery, table-tested against the full parse they stand in for."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bot.delivery_facts import DeliveryFacts, delivery_facts, json_object
from tests.conftest import payload_bytes

WEBHOOKS = Path(__file__).parent / "fixtures" / "github-webhooks"


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("push/with-new-branch", DeliveryFacts(None, 1, 186853002)),
        ("pull_request/opened", DeliveryFacts("opened", 1, 186853002)),
        ("installation/created", DeliveryFacts("created", 957387, None)),
    ],
)
def test_real_payloads(fixture, expected):
    assert delivery_facts(payload_bytes(fixture)) == expected


@pytest.mark.parametrize("path", sorted(WEBHOOKS.glob("*/*.json")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_agrees_with_a_full_parse(path):
    body = path.read_bytes()
    payload = orjson.loads(body)
    installation, repository = payload.get("installation"), payload.get("repository")
    assert delivery_facts(body) == DeliveryFacts(
        payload.get("action"),
        installation.get("id") if installation else None,
        repository.get("id") if repository else None,
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{}", DeliveryFacts(None, None, None)),
        (
            b'{"action": "closed", "installation": {"id": 7}, "repository": {"id": 9}}',
            DeliveryFacts("closed", 7, 9),
        ),
        (b'{"installation": null, "repository": {}}', DeliveryFacts(None, None, None)),
        ('{"action": "édité", "repository": {"id": 3}}'.encode(), DeliveryFacts("édité", None, 3)),
        # unexpected shapes fall back to the full parse and keep what is usable
        (b'{"action": 5, "installation": {"id": 7}}', DeliveryFacts(None, 7, None)),
        (b'{"repository": "octo/repo", "installation": {"id": 7}}', DeliveryFacts(None, 7, None)),
        (b'{"repository": {"id": "9"}}', DeliveryFacts(None, None, None)),
        (b'{"installation": {"id": true}}', DeliveryFacts(None, None, None)),
        (b'{"installation": {"id": 1.5}, "action": "x"}', DeliveryFacts("x", None, None)),
        # not a JSON object
        (b"[1, 2]", None),
        (b'"push"', None),
        (b"null", None),
        (b"", None),
        (b'{"action": "opened"', None),
        (b'{"action": "opened"} trailing', None),
        (b'{"action": NaN}', None),
        (b'{"x": "\\ud800"}', None),
        # invalid UTF-8, in a field the typed decode skips and in one it reads
        (b'{"x": "\xff"}', None),
        (b'{"action": "\xc3("}', None),
        (b'{"repository": "\xff", "installation": {"id": 1}}', None),
    ],
)
def test_bodies(body, expected):
    assert delivery_facts(body) == expected
    assert (json_object(body) is None) == (expected is None)
