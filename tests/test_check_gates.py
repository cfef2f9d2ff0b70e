"""Verdicts on required checks, parking after the build and the release claim, on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deployer.operations import queue_deployment
from deployer.state import IN_PROGRESS
from store import check_gates, locks
from store.db import create_engine, sessionmaker
from store.models import Deployment, Environment
from tests.conftest import Backend

Sessions = async_sessionmaker[AsyncSession]
SHA = "1" * 40


@pytest.fixture
async def sessions(backend: Backend) -> AsyncIterator[Sessions]:
    engine = create_engine(backend.database_url)
    try:
        yield sessionmaker(engine)
    finally:
        await engine.dispose()


async def gated(sessions: Sessions, state: str, required: list[str] | None = None) -> int:
    """A production deployment of SHA in `state` that waits for `required` (None: not gated)."""
    deployment_id = await queue_deployment(sessions, "web", "production", trigger="push", commit_sha=SHA)
    async with sessions.begin() as session:
        row = await session.get(Deployment, deployment_id)
        assert row is not None
        row.state = state
        row.checks = check_gates.new_gate(required) if required is not None else None
    return deployment_id


async def row(sessions: Sessions, deployment_id: int) -> Deployment:
    async with sessions() as session:
        found = await session.get(Deployment, deployment_id)
    assert found is not None
    return found


async def test_a_verdict_during_the_build_decides_where_the_build_parks(sessions: Sessions):
    passed, failed, pending = [await gated(sessions, "building", ["test"]) for _ in range(3)]
    project_id = (await row(sessions, passed)).project_id
    assert {g.deployment_id for g in await check_gates.gated_deployments(sessions, project_id, SHA)} == {
        passed,
        failed,
        pending,
    }
    assert await check_gates.record_verdict(sessions, passed, "passed", None) is None
    assert await check_gates.record_verdict(sessions, failed, "failed", "required check test failed") is None
    assert (await row(sessions, failed)).state == "building"  # the pipeline parks it, not the handler

    assert await check_gates.park_after_build(sessions, passed) is None
    assert await check_gates.park_after_build(sessions, failed) == ("blocked", "required check test failed")
    assert await check_gates.park_after_build(sessions, pending) == ("waiting", "waits for test to pass")
    parked = await row(sessions, pending)
    assert (parked.state, parked.reason, parked.lease_expires_at) == (
        "waiting",
        "waits for test to pass",
        None,
    )


async def test_a_build_superseded_meanwhile_is_not_parked(sessions: Sessions):
    deployment_id = await gated(sessions, "superseded", ["test"])
    assert await check_gates.park_after_build(sessions, deployment_id) is None
    assert (await row(sessions, deployment_id)).state == "superseded"


async def test_a_deployment_that_does_not_wait_is_never_parked(sessions: Sessions):
    plain = await gated(sessions, "building")
    assert await check_gates.park_after_build(sessions, plain) is None
    assert await check_gates.gated_deployments(sessions, (await row(sessions, plain)).project_id, SHA) == []
    assert await check_gates.record_verdict(sessions, plain, "failed", "required check test failed") is None
    assert (await row(sessions, plain)).checks is None


async def test_a_parked_deployment_is_blocked_waits_again_and_is_released(sessions: Sessions):
    deployment_id = await gated(sessions, "waiting", ["test"])
    assert (
        await check_gates.record_verdict(sessions, deployment_id, "failed", "required check test failed")
        == "report"
    )
    assert (await row(sessions, deployment_id)).state == "blocked"
    # the same news twice is reported once
    assert (
        await check_gates.record_verdict(sessions, deployment_id, "failed", "required check test failed")
        is None
    )
    assert await check_gates.claim_release(sessions, deployment_id, IN_PROGRESS) is None  # not passed
    assert (
        await check_gates.record_verdict(sessions, deployment_id, "pending", "waits for test to pass")
        == "report"
    )
    assert (await row(sessions, deployment_id)).state == "waiting"
    assert await check_gates.record_verdict(sessions, deployment_id, "passed", None) == "release"

    released = await check_gates.claim_release(sessions, deployment_id, IN_PROGRESS)
    assert released is not None and released.deployment.state == "deploying"
    stored = await row(sessions, deployment_id)
    assert (stored.state, stored.reason, stored.lease_expires_at is not None) == ("deploying", None, True)
    async with sessions() as session:
        environment = await session.get(Environment, stored.environment_id)
    assert environment is not None and environment.locked_by_deployment_id == deployment_id
    assert await check_gates.claim_release(sessions, deployment_id, IN_PROGRESS) is None  # once
    assert await check_gates.record_verdict(sessions, deployment_id, "failed", "late") is None  # decided


async def test_parked_deployments_whose_checks_passed_are_found_for_the_sweep(sessions: Sessions):
    passed, waiting, building = (
        await gated(sessions, "waiting", ["test"]),
        await gated(sessions, "waiting", ["test"]),
        await gated(sessions, "building", ["test"]),
    )
    await check_gates.record_verdict(sessions, passed, "passed", None)
    await check_gates.record_verdict(sessions, building, "passed", None)
    assert await check_gates.passed_but_parked(sessions) == [passed]
    assert waiting not in await check_gates.passed_but_parked(sessions)


async def test_a_release_behind_a_newer_deployment_supersedes_itself(sessions: Sessions):
    older = await gated(sessions, "waiting", ["test"])
    newer = await gated(sessions, "queued")
    assert await check_gates.record_verdict(sessions, older, "passed", None) == "release"
    assert await check_gates.claim_release(sessions, older, IN_PROGRESS) is None
    stored = await row(sessions, older)
    assert (stored.state, stored.reason) == ("superseded", f"superseded by deployment {newer}")


async def test_a_lock_taken_while_it_waited_holds_the_release(sessions: Sessions):
    deployment_id = await gated(sessions, "blocked", ["test"])
    stored = await row(sessions, deployment_id)
    async with sessions.begin() as session:
        await locks.lock(session, stored.project_id, "production", "boss", "incident 42")
    assert await check_gates.record_verdict(sessions, deployment_id, "passed", None) == "release"
    assert await check_gates.claim_release(sessions, deployment_id, IN_PROGRESS) is None
    held = await row(sessions, deployment_id)
    assert (held.state, held.reason) == (
        "cancelled",
        "production is locked by @boss: incident 42; comment `/unlock` to resume",
    )
