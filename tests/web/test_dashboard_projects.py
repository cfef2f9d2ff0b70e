"""The projects list (search, sort, columns, states after a destroy), the confirmation steps of
destroy and roll back, and deleting a project, through the page `serve` runs, on both backends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from store.models import AuditEvent, Deployment, DeploymentLog, Environment, Project, utcnow
from tests.wired import Served

CSRF = {"csrf": "test-csrf"}
CONFIRMED = {**CSRF, "confirmed": "yes"}


async def _add_failing_project(served: Served) -> None:
    async with served.sessions.begin() as session:
        project = Project(name="api", full_name="octo-org/api")
        session.add(project)
        await session.flush()
        env = Environment(project_id=project.id, name="production", kind="production")
        session.add(env)
        await session.flush()
        session.add(
            Deployment(
                project_id=project.id,
                environment_id=env.id,
                environment="production",
                trigger="push",
                state="failed",
                commit_sha="b" * 40,
                commit_message="break the build\n\nlong body",
                ref="feature/x",
                framework="fastapi",
                created_at=utcnow() - timedelta(days=2),
            )
        )
        await session.execute(
            update(Deployment)
            .where(Deployment.id == served.seed.preview_deployment_id)
            .values(framework="nextjs", ref="main", commit_message="add cart\n\ndetails")
        )


async def test_projects_list_columns_search_and_sort(served: Served):
    await _add_failing_project(served)
    viewer = served.as_role("viewer")
    page = (await viewer.get("/")).text
    assert "nextjs" in page and "fastapi" in page
    assert "<code>aaaaaaa</code> add cart" in page and "details" not in page
    assert "<td>feature/x</td>" in page
    assert 'class="state failed"' in page and "✕" in page
    assert page.index('href="/projects/api"') < page.index('href="/projects/shop"')

    found = (await viewer.get("/?q=SHO")).text
    assert 'href="/projects/shop"' in found and 'href="/projects/api"' not in found
    none = (await viewer.get("/?q=100%25")).text
    assert "No project matches “100%”" in none and 'href="/projects/' not in none

    by_deploy = (await viewer.get("/?sort=deployed")).text
    assert by_deploy.index('href="/projects/shop"') < by_deploy.index('href="/projects/api"')
    by_state = (await viewer.get("/?sort=state")).text
    assert by_state.index('href="/projects/api"') < by_state.index('href="/projects/shop"')


async def test_destroy_asks_first_then_states_follow(served: Served):
    live = await served.deployed("pr-1", "preview")
    admin = served.as_role("admin")
    asked = await admin.post("/projects/shop/environments/pr-1/destroy", data=CSRF)
    assert asked.status_code == 200 and "Destroy shop/pr-1?" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    assert (await served.visit("pr-1")).text == "preview"
    page = await admin.get("/projects/shop/environments/pr-1/destroy")
    assert page.status_code == 200 and served.target.url_for("shop", "pr-1") in page.text

    done = await admin.post("/projects/shop/environments/pr-1/destroy", data=CONFIRMED)
    assert done.status_code == 303 and (await served.visit("pr-1")).status_code == 404
    project = (await admin.get("/projects/shop")).text
    deployments = project.split("<h2>Deployments")[1]
    row = deployments.split(f'href="/deployments/{live}"')[1].split("</tr>")[0]
    assert 'class="state destroyed"' in row and "ready" not in row
    ready = (await admin.get("/projects/shop?state=ready")).text.split("<h2>Deployments")[1]
    assert f'href="/deployments/{live}"' not in ready
    assert f'href="/deployments/{served.seed.deployment_id}"' in ready
    # the newest deployment of shop was pr-1's: the list must not call the project ready
    listed = (await admin.get("/")).text
    assert 'class="state destroyed"' in listed and 'class="state ready"' not in listed
    again = await admin.get("/projects/shop/environments/pr-1/destroy")
    assert again.status_code == 404 and "no active environment &#39;pr-1&#39;" in again.text


async def test_a_replaced_build_says_superseded(served: Served):
    async with served.sessions.begin() as session:
        env = await session.get(Environment, served.seed.production_id)
        newer = Deployment(
            project_id=served.seed.project_id,
            environment_id=env.id,
            environment="production",
            trigger="push",
            state="ready",
            artifact="art2",
            ready_at=utcnow(),
        )
        session.add(newer)
        await session.flush()
        env.current_deployment_id = newer.id
    page = (await served.as_role("viewer").get("/projects/shop")).text.split("<h2>Deployments")[1]
    old = page.split(f'href="/deployments/{served.seed.deployment_id}"')[1].split("</tr>")[0]
    assert 'class="state superseded"' in old


async def test_rollback_confirmation_names_both_builds(served: Served):
    async with served.sessions.begin() as session:
        env = await session.get(Environment, served.seed.production_id)
        newer = Deployment(
            project_id=served.seed.project_id,
            environment_id=env.id,
            environment="production",
            trigger="push",
            state="ready",
            artifact="art2",
            commit_sha="c" * 40,
            commit_message="second",
            ready_at=utcnow(),
        )
        session.add(newer)
        await session.flush()
        env.current_deployment_id = newer.id
    admin = served.as_role("admin")
    asked = await admin.get("/projects/shop/environments/production/rollback")
    assert asked.status_code == 200
    assert f"Live now: #{newer.id} ccccccc “second”" in asked.text
    assert f"Comes back: #{served.seed.deployment_id} aaaaaaa “first”" in asked.text
    refused = await served.as_role("developer").get("/projects/shop/environments/production/rollback")
    assert refused.status_code == 403
    nothing = await admin.get("/projects/shop/environments/pr-1/rollback")
    assert nothing.status_code == 409 and "no earlier live deployment" in nothing.text
    # pressing it is in test_page_actions.py, with builds that run


async def test_delete_project_needs_the_typed_name(served: Served):
    await served.deployed("production", "a")
    await served.deployed("pr-1", "b")
    admin = served.as_role("admin")
    form = await admin.get("/projects/shop/delete")
    assert form.status_code == 200 and "Type <strong>shop</strong> to confirm" in form.text
    wrong = await admin.post("/projects/shop/delete", data={**CONFIRMED, "confirm_name": "shp"})
    assert wrong.status_code == 400 and "you typed “shp”; type the project name shop exactly" in wrong.text
    assert (await served.visit("production")).text == "a"
    refused = await served.as_role("developer").post(
        "/projects/shop/delete", data={**CONFIRMED, "confirm_name": "shop"}
    )
    assert refused.status_code == 403

    done = await admin.post("/projects/shop/delete", data={**CONFIRMED, "confirm_name": "shop"})
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert (await served.visit("production")).status_code == (await served.visit("pr-1")).status_code == 404
    async with served.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Project)) == 0
        assert await session.scalar(select(func.count()).select_from(Deployment)) == 0
        assert await session.scalar(select(func.count()).select_from(DeploymentLog)) == 0
        entry = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "project.delete"))).one()
    assert entry.actor == "admin-user" and entry.target == "shop"
    assert sorted(entry.details["environments"]) == ["pr-1", "production"]
    assert "No projects yet" in (await admin.get("/")).text


async def test_projects_list_pages_keep_search_and_sort(served: Served):
    async with served.sessions.begin() as session:
        session.add_all(Project(name=f"app-{n:03d}") for n in range(120))
    viewer = served.as_role("viewer")
    first = (await viewer.get("/?q=app&sort=name")).text
    assert first.count('href="/projects/app-') == 50 and "1–50 of 120" in first
    assert 'href="?q=app&amp;sort=name&amp;page=2" rel="next"' in first
    last = (await viewer.get("/?q=app&sort=name&page=3")).text
    assert "101–120 of 120" in last and 'href="/projects/app-119"' in last and 'rel="next"' not in last
    beyond = (await viewer.get("/?q=app&page=99")).text
    assert "101–120 of 120" in beyond
