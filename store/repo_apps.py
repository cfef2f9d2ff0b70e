"""The projects of one repository: one per monorepo app (or the repository's only one)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.activity import record_github_change
from store.models import Deployment, Environment, Project, utcnow


async def app_names(sessions: async_sessionmaker[AsyncSession], repo: str) -> list[str]:
    """The named apps (`apps:`) of the repository `owner/name` that are not archived, by name."""
    async with sessions() as session:
        found = await session.scalars(
            select(Project.app)
            .where(Project.full_name == repo, Project.app != "", Project.archived_at.is_(None))
            .order_by(Project.app)
        )
        return list(found.all())


async def live_projects(sessions: async_sessionmaker[AsyncSession], repo: str) -> list[tuple[int, str]]:
    """(id, app) of each project of the repository `owner/name` that is not archived, by app."""
    async with sessions() as session:
        found = await session.execute(
            select(Project.id, Project.app)
            .where(Project.full_name == repo, Project.archived_at.is_(None))
            .order_by(Project.app)
        )
        return [(row[0], row[1]) for row in found.all()]


async def deployment_app(
    sessions: async_sessionmaker[AsyncSession], github_repo_id: int, deployment_id: int
) -> str | None:
    """The app whose project made deployment `deployment_id`, if a project of that repository did."""
    async with sessions() as session:
        return await session.scalar(
            select(Project.app)
            .join(Deployment, Deployment.project_id == Project.id)
            .where(Deployment.id == deployment_id, Project.github_repo_id == github_repo_id)
        )


async def apps_reported_on(
    sessions: async_sessionmaker[AsyncSession], github_repo_id: int, sha: str
) -> list[str]:
    """The apps of the repository with a deployment of `sha` that has a check run, by name."""
    async with sessions() as session:
        found = await session.scalars(
            select(Project.app)
            .join(Deployment, Deployment.project_id == Project.id)
            .where(
                Project.github_repo_id == github_repo_id,
                Deployment.commit_sha == sha,
                Deployment.check_run_id.is_not(None),
            )
            .distinct()
            .order_by(Project.app)
        )
        return list(found.all())


async def apps_with_environment(
    sessions: async_sessionmaker[AsyncSession], github_repo_id: int, environment: str
) -> list[str]:
    """The apps of the repository that have seen a commit for `environment` (a PR's preview)."""
    async with sessions() as session:
        found = await session.scalars(
            select(Project.app)
            .join(Environment, Environment.project_id == Project.id)
            .where(
                Project.github_repo_id == github_repo_id,
                Environment.name == environment,
                Environment.head_sha.is_not(None),
            )
            .order_by(Project.app)
        )
        return list(found.all())


async def follow_listed_apps(
    sessions: async_sessionmaker[AsyncSession],
    github_repo_id: int,
    listed: Iterable[str],
    *,
    actor: str,
    commit: str,
) -> tuple[list[str], list[str]]:
    """Make the repository's projects follow its `apps:` list in one transaction: bring back the
    archived ones it lists again (when the repository is still deployed), archive those it no
    longer lists (and a monorepo's one-app project). Each change goes to the activity log as
    `actor`'s, naming `commit`; returns (restored, archived) apps."""
    apps = list(listed)
    async with sessions.begin() as session:
        found = (
            await session.scalars(
                select(Project).where(Project.github_repo_id == github_repo_id).order_by(Project.app)
            )
        ).all()
        if not any(p.archived_at is None for p in found):
            return [], []  # an uninstalled or deleted repository comes back through the installation
        back = [p for p in found if p.archived_at is not None and p.app in apps]
        gone = [p for p in found if p.archived_at is None and p.app not in apps]
        for action, changed, archived_at in (("app.restore", back, None), ("app.archive", gone, utcnow())):
            if not changed:
                continue
            await session.execute(
                update(Project).where(Project.id.in_([p.id for p in changed])).values(archived_at=archived_at)
            )
            for project in changed:
                await record_github_change(
                    session,
                    actor=actor,
                    action=action,
                    target=project.name,
                    project_id=project.id,
                    app=project.app,
                    commit=commit,
                    reason="listed again in autostack.yml" if archived_at is None else "not in autostack.yml",
                )
        return [p.app for p in back], [p.app for p in gone]


async def all_archived(sessions: async_sessionmaker[AsyncSession], github_repo_id: int) -> bool:
    """True when the repository has projects and every one of them is archived."""
    async with sessions() as session:
        found = (
            await session.scalars(select(Project.archived_at).where(Project.github_repo_id == github_repo_id))
        ).all()
        return bool(found) and all(when is not None for when in found)
