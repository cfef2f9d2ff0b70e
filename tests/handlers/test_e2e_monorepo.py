"""End to end: a repository with web/ and api/ apps deploys only the apps whose paths changed."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from bot.reporter.comment import MARKER
from deployer.targets.local.router import hostname_for
from store.models import Deployment, Project
from tests.handlers.doubles import REPO, pull_request, push
from tests.handlers.e2e_harness import E2E, tarball

CONFIG = """\
apps:
  - name: web
    root: web
  - name: api
    root: api
    paths: [api/**, shared/**]
"""
BEFORE, SHA1, SHA2 = "0a" * 20, "1b" * 20, "2c" * 20


def commit(e2e: E2E, sha: str) -> dict[str, str]:
    """web/ and api/ as two static sites naming the app and commit; returns each app's page."""
    pages = {app: f"<h1>{app} at {sha[:7]}</h1>\n" for app in ("web", "api")}
    files = {f"{app}/index.html": html for app, html in pages.items()}
    e2e.github.add_tarball(REPO, sha, tarball(sha, {"autostack.yml": CONFIG, **files}))
    return pages


async def get(e2e: E2E, project: str, environment: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(
            f"http://127.0.0.1:{e2e.target.router_port}/",
            headers={"host": hostname_for(project, environment)},
        )


async def deployed(e2e: E2E) -> list[tuple[str, str, str]]:
    async with e2e.services.sessions() as session:
        rows = await session.execute(
            select(Project.app, Deployment.environment, Deployment.state)
            .join(Project, Project.id == Deployment.project_id)
            .order_by(Deployment.id)
        )
        return [tuple(row) for row in rows.all()]


async def test_a_pull_request_touching_api_deploys_api_only_and_the_comment_lists_both(e2e: E2E):
    e2e.github.files[(REPO, "autostack.yml", None)] = CONFIG
    pages = commit(e2e, SHA1)
    e2e.github.pull_files[(REPO, 2)] = ["api/index.html"]

    await e2e.deliver("pull_request", pull_request("opened", sha=SHA1))

    assert await deployed(e2e) == [("api", "pr-2", "ready")]
    answer = await get(e2e, "hello-world-api", "pr-2")
    assert answer.status_code == 200 and answer.text == pages["api"]
    assert (await get(e2e, "hello-world-web", "pr-2")).status_code in (404, 502)
    # GitHub was asked for the pull request's files, paginated the documented way
    [files_call] = [c for c in e2e.github.calls if c.path.endswith("/pulls/2/files")]
    assert files_call.query == {"per_page": "100", "page": "1"}
    assert e2e.github.violations == []

    [run] = [r for r in e2e.github.check_runs.values() if r["head_sha"] == SHA1]
    assert run["name"] == "AutoStack / api/pr-2" and run["conclusion"] == "success"
    assert {s["context"] for s in e2e.github.statuses_for(SHA1)} == {"autostack/api/pr-2"}

    [comment] = e2e.github.comments_on(REPO, 2)
    body = comment["body"]
    assert body.startswith(MARKER)
    api_line = next(line for line in body.splitlines() if line.startswith("| api | pr-2 |"))
    web_line = next(line for line in body.splitlines() if line.startswith("| web | pr-2 |"))
    assert "✅ Ready" in api_line and e2e.target.url_for("hello-world-api", "pr-2") in api_line
    assert "Skipped: no changes" in web_line


async def test_a_push_touching_both_apps_deploys_both_and_one_touching_api_deploys_api(e2e: E2E):
    e2e.github.files[(REPO, "autostack.yml", None)] = CONFIG
    first = commit(e2e, SHA1)
    e2e.github.compared[(REPO, BEFORE, SHA1)] = ["web/index.html", "shared/logo.svg"]
    body = push(sha=SHA1, pushed_at=1_700_000_000)
    body["before"] = BEFORE

    await e2e.deliver("push", body)

    assert sorted(await deployed(e2e)) == [("api", "production", "ready"), ("web", "production", "ready")]
    for app in ("web", "api"):
        answer = await get(e2e, f"hello-world-{app}", "production")
        assert answer.status_code == 200 and answer.text == first[app]
    names = {r["name"] for r in e2e.github.check_runs.values() if r["head_sha"] == SHA1}
    assert names == {"AutoStack / web/production", "AutoStack / api/production"}
    environments = {d["environment"] for d in e2e.github.deployments.values()}
    assert environments == {"web/production", "api/production"}

    second = commit(e2e, SHA2)
    e2e.github.compared[(REPO, SHA1, SHA2)] = ["api/index.html"]
    body = push(sha=SHA2, pushed_at=1_700_000_060)
    body["before"] = SHA1
    await e2e.deliver("push", body)

    assert (await get(e2e, "hello-world-api", "production")).text == second["api"]
    assert (await get(e2e, "hello-world-web", "production")).text == first["web"]
    assert len(await deployed(e2e)) == 3
    compare_calls = [c for c in e2e.github.calls if "/compare/" in c.path]
    assert [c.path.rsplit("/", 1)[-1] for c in compare_calls] == [f"{BEFORE}...{SHA1}", f"{SHA1}...{SHA2}"]
    assert e2e.github.violations == []


async def test_a_push_github_cannot_compare_deploys_every_app(e2e: E2E):
    e2e.github.files[(REPO, "autostack.yml", None)] = CONFIG
    commit(e2e, SHA1)
    body = push(sha=SHA1, pushed_at=1_700_000_000)
    body["before"] = BEFORE  # the stand-in knows no such comparison: 404, like a force-pushed base

    await e2e.deliver("push", body)

    assert sorted(app for app, _, _ in await deployed(e2e)) == ["api", "web"]
