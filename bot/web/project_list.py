"""The projects list: every project with its newest deployment (store.dashboard, two queries),
the state its row shows, and the sort orders the page offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.web.states import shown_state
from store.dashboard import project_summaries
from store.db import Tx
from store.models import Team

SORTS = {"name": "name", "deployed": "last deploy", "state": "state"}
# failing and running projects first: they are the ones someone needs to look at
STATE_ORDER = ("failed", "building", "deploying", "queued", "ready", "superseded", "cancelled", "destroyed")


@dataclass(frozen=True)
class ProjectRow:
    """One line of the projects list."""

    name: str
    full_name: str | None
    url: str | None
    state: str | None
    deployed_at: datetime | None
    framework: str | None
    commit_sha: str | None
    commit_message: str | None
    branch: str | None


async def project_rows(tx: Tx, team: Team, search: str) -> list[ProjectRow]:
    """The projects list's rows in name order."""
    rows = []
    for summary in await project_summaries(tx, team, search):
        newest = summary.newest
        if newest is None:
            rows.append(
                ProjectRow(summary.name, summary.full_name, summary.url, None, None, None, None, None, None)
            )
            continue
        rows.append(
            ProjectRow(
                name=summary.name,
                full_name=summary.full_name,
                url=summary.url,
                state=shown_state(newest.state, newest.environment_state, newest.is_live),
                deployed_at=newest.created_at,
                framework=newest.framework,
                commit_sha=newest.commit_sha,
                commit_message=(newest.commit_message or "").split("\n", 1)[0] or None,
                branch=newest.ref,
            )
        )
    return rows


def sort_rows(rows: list[ProjectRow], key: str) -> list[ProjectRow]:
    """The rows in the order `key` names (see SORTS); an unknown key keeps name order."""
    if key == "deployed":
        never = datetime.min.replace(tzinfo=None)
        return sorted(
            rows, key=lambda r: r.deployed_at.replace(tzinfo=None) if r.deployed_at else never, reverse=True
        )
    if key == "state":
        rank = {state: i for i, state in enumerate(STATE_ORDER)}
        return sorted(rows, key=lambda r: (rank.get(r.state or "", len(rank)), r.name))
    return sorted(rows, key=lambda r: r.name)
