"""A monorepo's two apps report their first deployments of a new pull request at once: GitHub
gets one sticky comment, listing both apps, and the second app edits it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bot.github.api import GitHubAPI, IssueComment
from bot.github.app import GitHubApp
from bot.reporter.comment import MARKER
from bot.reporter.ledger import MemoryLedger
from bot.reporter.records import ReportRecords
from bot.reporter.sticky import StickyComments
from bot.reporter.sync import sync_comment
from store.db import create_engine, sessionmaker
from store.models import Environment, Installation, Project
from tests.conftest import Backend
from tests.github.seed import REPO, Seeded, add_deployment
from tests.github_standin.fixtures import APP_ID

PR = 12


class SlowToPost:
    """GitHub as the first app meets it: posting its comment takes until the second app has
    listed the pull request's comments (or a second), the window in which a second comment
    could be posted when the first is not under the claim."""

    def __init__(self, api: GitHubAPI, listed: asyncio.Event) -> None:
        self._api = api
        self._listed = listed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    async def create_issue_comment(self, repo: str, number: int, body: str) -> IssueComment:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listed.wait(), 1.0)
        return await self._api.create_issue_comment(repo, number, body)


class Listing:
    """The second app's GitHub: tells the first one when it has listed the comments."""

    def __init__(self, api: GitHubAPI, listed: asyncio.Event) -> None:
        self._api = api
        self._listed = listed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    async def list_issue_comments(self, repo: str, number: int) -> list[IssueComment]:
        found = await self._api.list_issue_comments(repo, number)
        self._listed.set()
        return found


async def _app_preview(sessions: Any, app: str) -> Seeded:
    async with sessions() as session:
        if await session.get(Installation, 1) is None:
            session.add(Installation(id=1, account_login="octo-org"))
            await session.flush()
        project = Project(name=f"shop-{app}", installation_id=1, full_name=REPO, github_repo_id=99, app=app)
        session.add(project)
        await session.flush()
        env = Environment(project_id=project.id, name=f"pr-{PR}", kind="preview", pr_number=PR)
        session.add(env)
        await session.commit()
        return Seeded(project.id, env.id, env.name)


async def test_two_apps_first_reports_post_one_comment(
    backend: Backend, github_standin, github_standin_server, github_app_keys
):
    engine = create_engine(backend.database_url)
    sessions = sessionmaker(engine)
    try:
        web, api = await _app_preview(sessions, "web"), await _app_preview(sessions, "api")
        records, ledger, sticky = ReportRecords(sessions), MemoryLedger(), StickyComments(sessions)
        client = GitHubApp(APP_ID, github_app_keys.private_pem, base_url=github_standin_server.url)
        listed = asyncio.Event()

        async def report(seeded: Seeded, github: Any, deployment_id: int) -> None:
            target, _ = await records.environment(seeded.project_id, seeded.environment)
            assert target is not None
            await sync_comment(github, target, records, ledger, lambda s: s, sticky, deployment_id)

        # web's deployment is the pull request's first; api's is made while web is posting
        first = await add_deployment(sessions, web, "1" * 40, pr_number=PR)
        web_reports = asyncio.create_task(report(web, SlowToPost(client.installation(1), listed), first))
        await asyncio.sleep(0.2)
        second = await add_deployment(sessions, api, "2" * 40, pr_number=PR)
        await report(api, Listing(client.installation(1), listed), second)
        await web_reports

        assert len(github_standin.calls_to("POST", rf"/issues/{PR}/comments$")) == 1
        [comment] = github_standin.comments_on(REPO, PR)
        assert comment["body"].startswith(MARKER)
        rows = [line for line in comment["body"].splitlines() if line.startswith(("| web |", "| api |"))]
        assert len(rows) == 2 and any("`2222222`" in row for row in rows)
    finally:
        await engine.dispose()
