"""The certificate column of the domains page, asked of the target when the page is drawn (on
kubernetes, cert-manager's Certificates; locally, plain http)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from itertools import groupby

from deployer.targets.base import CertificateState, Target, TargetError
from store.errors import TemporaryError
from store.models import Domain

log = logging.getLogger("autostack.web.certificates")


async def _of_environment(
    target: Target, project: str, environment: str, hosts: list[str]
) -> dict[str, CertificateState]:
    try:
        return await target.certificates(project, environment, hosts)
    except (TargetError, TemporaryError) as exc:  # either kind: the page still shows the rest
        log.warning("reading certificates of %s/%s failed: %s", project, environment, exc)
        return {host: CertificateState("unavailable", f"could not read it: {exc}") for host in hosts}


async def certificate_states(
    target: Target | None, project: str, domains: Sequence[Domain]
) -> dict[str, CertificateState]:
    """Each verified domain's certificate state, by host name (none without a target)."""
    if target is None:
        return {}
    verified = sorted((d for d in domains if d.state == "verified"), key=lambda d: d.environment)
    groups = [
        (env, [d.hostname for d in group]) for env, group in groupby(verified, key=lambda d: d.environment)
    ]
    found = await asyncio.gather(*(_of_environment(target, project, env, hosts) for env, hosts in groups))
    return {host: state for states in found for host, state in states.items()}
