"""`/status` and `/help`: answers, no changes."""

from __future__ import annotations

from handlers.commands.spec import Call, Outcome
from store import environment_names as environments
from store.db import reading
from store.environments import environment_named, latest_deployment
from store.models import Deployment, Environment


def _row(env: Environment, latest: Deployment | None) -> str:
    state = "destroyed" if env.state == "destroyed" else (latest.state if latest else "not deployed")
    if env.untrusted and env.head_sha and env.approved_sha != env.head_sha:
        state = f"waiting for `/deploy` approval of `{env.head_sha[:7]}`"
    sha = f"`{latest.commit_sha[:7]}`" if latest and latest.commit_sha else "—"
    url = env.url if env.url and env.state == "active" else "—"
    return f"| {env.name} | {state} | {sha} | {url} |"


async def status(call: Call) -> Outcome:
    """The pull request's preview and production: state, commit and URL of each."""
    names = [environments.PRODUCTION]
    if call.pr_number is not None:
        names.insert(0, environments.preview_name(call.pr_number))
    lines = ["| environment | state | commit | URL |", "|---|---|---|---|"]
    async with reading(call.ctx.sessions) as tx:
        for name in names:
            env = await environment_named(tx, call.project.id, name)
            if env is not None:
                lines.append(_row(env, await latest_deployment(tx, env.id)))
    if len(lines) == 2:
        return Outcome(True, f"{call.project.name} has no environments yet.")
    return Outcome(True, "\n".join([f"**{call.project.name}**", "", *lines]))
