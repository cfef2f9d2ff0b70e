"""Several replicas (each its own engine and GitHub client, as separate processes have) report
the same pull request at once on one PostgreSQL: one sticky comment, then edits of it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy import select

from bot.github.api import GitHubAPI, IssueComment
from bot.github.app import GitHubApp
from bot.reporter.comment import MARKER
from bot.reporter.reporter import Reporter
from store.db import create_engine, sessionmaker
from store.migrate import upgrade
from store.models import StickyComment
from tests.github.seed import REPO, add_deployment, seed_environment
from tests.github_standin.fixtures import APP_ID

BASE = "https://autostack.example.com"
REPLICAS = 3


class Meeting:
    """Where replicas that listed the comments wait (up to a second) for the others to list
    too: without a guard every one of them then finds no comment and posts its own."""

    def __init__(self) -> None:
        self.arrived = 0
        self.everyone = asyncio.Event()

    async def arrive(self) -> None:
        self.arrived += 1
        if self.arrived == REPLICAS:
            self.everyone.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.everyone.wait(), 1.0)


class ListingTogether:
    """One replica's GitHub: the App's installation clients, whose listings meet the others'."""

    def __init__(self, app: GitHubApp, meetings: list[Meeting]) -> None:
        self._app = app
        self._meetings = meetings

    def installation(self, installation_id: int) -> GitHubAPI:
        return _Client(self._app.installation(installation_id), self._meetings)


class _Client:
    def __init__(self, api: GitHubAPI, meetings: list[Meeting]) -> None:
        self._api = api
        self._meetings = meetings

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    async def list_issue_comments(self, repo: str, number: int) -> list[IssueComment]:
        found = await self._api.list_issue_comments(repo, number)
        await self._meetings[-1].arrive()
        return found


async def test_replicas_post_one_sticky_comment_and_edit_it(
    fresh_postgres_url, github_standin, github_standin_server, github_app_keys
):
    upgrade(fresh_postgres_url)
    engines = [create_engine(fresh_postgres_url) for _ in range(REPLICAS)]
    meetings = [Meeting()]
    replicas = [
        Reporter(
            None,
            sessions=sessionmaker(engine),
            github=ListingTogether(
                GitHubApp(APP_ID, github_app_keys.private_pem, base_url=github_standin_server.url), meetings
            ),
            base_url=BASE,
        )
        for engine in engines
    ]
    seeder = sessionmaker(engines[0])
    env = await seed_environment(seeder)
    await add_deployment(seeder, env, "1" * 40)
    try:

        async def all_replicas_report() -> None:
            meetings.append(Meeting())
            await asyncio.gather(*(r.refresh_comment(env.project_id, env.environment) for r in replicas))

        await all_replicas_report()
        [comment] = github_standin.comments_on(REPO, 12)
        assert MARKER in comment["body"]
        assert len(github_standin.calls_to("POST", r"/issues/12/comments$")) == 1
        # the replicas that waited found the id the first one recorded and edited the comment
        patches = rf"/issues/comments/{comment['id']}$"
        assert len(github_standin.calls_to("PATCH", patches)) == REPLICAS - 1
        async with seeder() as session:
            stored = await session.scalar(
                select(StickyComment.comment_id).where(StickyComment.pr_number == 12)
            )
        assert stored == comment["id"]

        # a new push: every replica edits the comment they share, none posts another
        await add_deployment(seeder, env, "2" * 40)
        await all_replicas_report()
        assert len(github_standin.calls_to("POST", r"/issues/12/comments$")) == 1
        assert len(github_standin.calls_to("PATCH", patches)) == 2 * REPLICAS - 1
        [edited] = github_standin.comments_on(REPO, 12)
        assert "`2222222`" in edited["body"]

        # someone deletes it on GitHub: it comes back with the next change, once, not once per
        # replica (an unchanged comment is not sent again: the reporter's ledger says GitHub has it)
        del github_standin.comments[comment["id"]]
        await add_deployment(seeder, env, "3" * 40)
        await all_replicas_report()
        [recreated] = github_standin.comments_on(REPO, 12)
        assert recreated["id"] != comment["id"] and "`3333333`" in recreated["body"]
        assert len(github_standin.calls_to("POST", r"/issues/12/comments$")) == 2
    finally:
        for engine in engines:
            await engine.dispose()
