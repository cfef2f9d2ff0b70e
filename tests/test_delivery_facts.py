"""The facts stored beside a delivery, table-tested against the full parse they stand in for."""

from __future__ import annotations

import json
import random
from pathlib import Path

import orjson
import pytest

from bot.intake.facts import (
    MAX_DEPTH,
    BadDelivery,
    DeliveryFacts,
    check_headers,
    delivery_facts,
    json_object,
    too_deep,
)
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
    if expected is None:
        with pytest.raises(BadDelivery, match="not a JSON object"):
            delivery_facts(body)
    else:
        assert delivery_facts(body) == expected
    assert (json_object(body) is None) == (expected is None)


BIGINT_MAX = 9223372036854775807


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (b'{"installation": {"id": 18446744073709551616}}', "installation.id out of range"),
        (b'{"installation": {"id": 9223372036854775808}}', "installation.id out of range"),
        (b'{"repository": {"id": -9223372036854775809}}', "repository.id out of range"),
        (b'{"repository": {"id": 0}}', "repository.id out of range"),
        (b'{"installation": {"id": -1}, "repository": {"id": 1}}', "installation.id out of range"),
        # the full-parse path checks as well
        (b'{"action": 5, "installation": {"id": 9223372036854775808}}', "installation.id out of range"),
        (b'{"action": "' + b"a" * 65 + b'"}', "action longer than 64 characters"),
        (('{"action": "' + "é" * 65 + '"}').encode(), "action longer than 64 characters"),
        (b'{"action": "open\\u0000ed"}', "action contains a NUL character"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, f"nested deeper than {MAX_DEPTH} levels"),
        (b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", f"nested deeper than {MAX_DEPTH} levels"),
    ],
    ids=lambda v: v[:40] if isinstance(v, bytes) else v,
)
def test_values_that_do_not_fit_their_column_are_refused_naming_the_field(body, refused):
    with pytest.raises(BadDelivery, match=refused):
        delivery_facts(body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"installation": {"id": 9223372036854775807}}', DeliveryFacts(None, BIGINT_MAX, None)),
        (b'{"repository": {"id": 1}}', DeliveryFacts(None, None, 1)),
        (b'{"action": "' + b"a" * 64 + b'"}', DeliveryFacts("a" * 64, None, None)),
        # NUL elsewhere in the payload is stored: the payload column is bytes
        (b'{"action": "x", "comment": {"body": "a\\u0000b"}}', DeliveryFacts("x", None, None)),
        # exactly the limit, in arrays and in objects
        (b'{"x":' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}", DeliveryFacts(None, None, None)),
        (b'{"a":' * MAX_DEPTH + b"1" + b"}" * MAX_DEPTH, DeliveryFacts(None, None, None)),
        # brackets inside strings do not nest, escaped quotes included
        (
            b'{"x": "' + b"[{" * 2000 + b'\\\\", "y": "\\"' + b"[" * 600 + b'"}',
            DeliveryFacts(None, None, None),
        ),
        # many brackets, shallow: the scan runs and passes
        (b'{"x": [' + b"[]," * 5000 + b"[]]}", DeliveryFacts(None, None, None)),
    ],
    ids=lambda v: v[:40] if isinstance(v, bytes) else None,
)
def test_values_at_their_limits_are_kept(body, expected):
    assert delivery_facts(body) == expected


@pytest.mark.parametrize(
    ("event", "delivery_id", "refused"),
    [
        ("", "d1", "required"),
        ("push", "", "required"),
        ("p" * 65, "d1", "X-GitHub-Event must be 1 to 64"),
        ("push\x00", "d1", "X-GitHub-Event"),
        ("Push Event", "d1", "X-GitHub-Event"),
        ("push", "d" * 65, "X-GitHub-Delivery must be 1 to 64"),
        ("push", "a b", "X-GitHub-Delivery"),
        ("push", "id\x00", "X-GitHub-Delivery"),
        ("push", "idé", "X-GitHub-Delivery"),
    ],
)
def test_headers_that_do_not_fit_their_column_are_refused(event, delivery_id, refused):
    with pytest.raises(BadDelivery, match=refused):
        check_headers(event, delivery_id)


@pytest.mark.parametrize(
    ("event", "delivery_id"),
    [
        ("push", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ("exemption_request_secret_scanning", "d-unsigned"),
        ("e" * 64, "d" * 64),
        ("cache_sync", "gh:1.2_3"),
    ],
)
def test_headers_github_sends_are_accepted(event, delivery_id):
    check_headers(event, delivery_id)


_LEAVES = ['a"]}\\', "[[{{", 'x\\"[', 1, None, "é]", [], {}, ["]"], {"{": "}"}]


def _random_json(rng: random.Random, depth: int) -> object:
    """A random value nesting exactly `depth` levels: a spine of arrays and objects with shallow
    siblings whose strings hold brackets, quotes and backslashes."""
    value: object = rng.choice(_LEAVES[:6])
    for level in range(depth):
        # a container beside the innermost value would add a level
        siblings = [rng.choice(_LEAVES[:6] if level == 0 else _LEAVES) for _ in range(rng.randint(0, 2))]
        value = (
            [*siblings, value]
            if rng.random() < 0.5
            else {"[k": value, **{f"s{i}}}": s for i, s in enumerate(siblings)}}
        )
    return value


@pytest.mark.parametrize("depth", [1, 2, 30, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 40])
@pytest.mark.parametrize("seed", range(6))
def test_nesting_scan_agrees_with_the_true_depth(seed, depth):
    # wide siblings, past the bracket count under which the scan is skipped
    body = json.dumps([[[] for _ in range(600)], _random_json(random.Random(seed), depth - 1)]).encode()
    assert too_deep(body) == (max(depth, 3) > MAX_DEPTH)
