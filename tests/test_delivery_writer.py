"""The group commit isolates a row the database refuses: only that delivery fails."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.intake.facts import DeliveryFacts
from bot.intake.group_commit import DeliveryRefused
from store.deliveries import NewDelivery
from store.models import utcnow
from tests.conftest import payload_bytes, signed_headers
from tests.intake_harness import running

PUSH = payload_bytes("push/with-new-branch")


def delivery(**fields: object) -> NewDelivery:
    values: dict[str, object] = {
        "delivery_id": str(uuid.uuid4()),
        "event": "push",
        "action": None,
        "installation_id": 1,
        "repository_id": 2,
        "payload": PUSH,
        "received_at": utcnow(),
    }
    values.update(fields)
    return NewDelivery(**values)  # type: ignore[arg-type]


# values both databases refuse, were one to get past the intake's checks
REFUSED = [
    ("installation id 2**64", {"installation_id": 2**64}),
    ("repository id 2**63", {"repository_id": 2**63}),
    ("installation id below BIGINT", {"installation_id": -(2**63) - 1}),
    ("action with a lone surrogate", {"action": "\ud800"}),
]


@pytest.mark.parametrize(("case", "bad"), REFUSED, ids=[c for c, _ in REFUSED])
async def test_a_refused_row_fails_alone_and_the_rest_of_its_batch_is_stored(backend, tmp_path, case, bad):
    good = [delivery() for _ in range(100)]
    refused = delivery(**bad)
    async with running(backend.settings(tmp_path), relay=False) as h:
        writer = h.services.writer
        results = await asyncio.gather(
            *(writer.submit(d) for d in good[:50]),
            writer.submit(refused),
            *(writer.submit(d) for d in good[50:]),
            return_exceptions=True,
        )
        stored = {d.delivery_id for d in await h.deliveries()}
    outcome = results.pop(50)
    assert isinstance(outcome, DeliveryRefused), outcome
    assert results == [True] * 100
    assert stored == {d.delivery_id for d in good}


async def test_a_refused_row_is_answered_422_and_others_202(backend, tmp_path, monkeypatch):
    """Were a check at the intake missed, the database's refusal still reaches only its sender."""
    import bot.intake.endpoint

    real = bot.intake.endpoint.delivery_facts
    out_of_range = b'{"marker": "out of range"}'

    def facts(body: bytes) -> DeliveryFacts:
        return DeliveryFacts(None, 2**64, None) if body == out_of_range else real(body)

    monkeypatch.setattr(bot.intake.endpoint, "delivery_facts", facts)
    good = [str(uuid.uuid4()) for _ in range(40)]
    async with running(backend.settings(tmp_path), relay=False) as h:
        bad, *answers = await asyncio.gather(
            h.post(out_of_range, signed_headers(out_of_range, "push")),
            *(h.post(PUSH, signed_headers(PUSH, "push", i)) for i in good),
        )
        stored = {d.delivery_id for d in await h.deliveries()}
    assert bad.status_code == 422
    assert bad.json()["error"].startswith("the database refused this delivery: ")
    assert [r.status_code for r in answers] == [202] * 40
    assert stored == set(good)
