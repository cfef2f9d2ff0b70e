"""What a CLI upload changes besides its deployment: the project it makes under a new name, and
the activity-log entry of the deploy, each in its own transaction."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from store.activity import Actor, record_change
from store.db import Sessions
from store.models import Project
from store.projects import project_id_named


async def create_project(sessions: Sessions, by: Actor, name: str, installation_id: int | None) -> None:
    """Make the project `name` for the installation, logged; nothing when another upload made
    it meanwhile (whose it is, the caller checks again)."""
    try:
        async with sessions.begin() as session:
            project = Project(name=name, installation_id=installation_id)
            session.add(project)
            await session.flush()
            await record_change(session, by, "project.create", name, project.id)
    except IntegrityError:
        return


async def record_upload(
    sessions: Sessions, by: Actor, name: str, environment: str, deployment_id: int
) -> None:
    """Log `by`'s upload to the project's environment as a deploy."""
    async with sessions.begin() as session:
        project_id = await project_id_named(session, name)
        await record_change(
            session, by, "deploy", f"{name}/{environment}", project_id, deployment=deployment_id
        )
