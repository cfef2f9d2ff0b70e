"""An environment's verified custom domains, read from the store for the target's routing."""

from __future__ import annotations

from deployer.targets.base import DomainSource
from store import domains as stored
from store.domains import Sessions


def verified_domains(sessions: Sessions) -> DomainSource:
    """A DomainSource answering from the database; pending domains are left out."""

    async def domains_for(project: str, environment: str) -> tuple[str, ...]:
        return await stored.verified_hostnames(sessions, project, environment)

    return domains_for
