"""The router: keys, matching and isolation of one handler's failure from the others."""

from __future__ import annotations

import logging

import pytest

from handlers.context import Context
from handlers.router import EventRouter, compose, dispatch
from store.errors import TemporaryError


@pytest.mark.parametrize(
    ("keys", "event", "action", "matches"),
    [
        (("push",), "push", None, True),
        (("push",), "push", "created", True),
        (("pull_request.opened",), "pull_request", "opened", True),
        (("pull_request.opened",), "pull_request", "closed", False),
        (("pull_request.opened",), "pull_request", None, False),
        (("pull_request",), "pull_request", "closed", True),
        (("pull_request.opened", "pull_request.reopened"), "pull_request", "reopened", True),
        (("issue_comment.created",), "issues", "created", False),
    ],
)
def test_route_matching(keys, event, action, matches):
    router = EventRouter()

    @router.on(*keys)
    async def handler(ctx: Context) -> None:
        return None

    assert bool(router.matching(event, action)) is matches


@pytest.mark.parametrize("bad", ["", ".opened", "pull_request.", "."])
def test_bad_keys_are_refused_at_registration(bad):
    with pytest.raises(ValueError, match=r"bad route key|at least one"):
        EventRouter().on(bad)


def _ctx(event: str, action: str | None) -> Context:
    return Context(
        delivery_id="d-1",
        event=event,
        action=action,
        payload={},
        sessions=None,
        jobs=None,  # type: ignore[arg-type]
        log=logging.LoggerAdapter(logging.getLogger("test"), {}),
    )


async def test_every_match_runs_in_order_and_failures_stay_separate():
    first, second = EventRouter(), EventRouter()
    ran: list[str] = []

    @first.on("push")
    async def a(ctx: Context) -> None:
        ran.append("a")
        raise RuntimeError("boom")

    @second.on("push")
    async def b(ctx: Context) -> None:
        ran.append("b")
        raise TemporaryError("502 from GitHub")

    @second.on("push")
    async def c(ctx: Context) -> None:
        ran.append("c")

    result = await dispatch(compose([first, second]), _ctx("push", None))
    assert ran == ["a", "b", "c"]
    assert list(result.permanent) == [
        f"{__name__}.test_every_match_runs_in_order_and_failures_stay_separate.<locals>.a"
    ]
    assert "502 from GitHub" in next(iter(result.temporary.values()))
    assert len(result.done) == 1 and result.done[0].endswith(".c")


async def test_handlers_already_done_are_skipped():
    router = EventRouter()
    ran: list[str] = []

    @router.on("push")
    async def once(ctx: Context) -> None:
        ran.append("once")

    name = router.routes[0].name
    result = await dispatch(router, _ctx("push", None), skip=[name])
    assert ran == [] and result.done == [name]


async def test_unknown_event_is_ignored():
    result = await dispatch(EventRouter(), _ctx("star", "created"))
    assert result.ignored and result.matched == []
