"""The web page inside `autostack serve`: its state built from the services, and its
background tasks (custom domains kept routed, the router's request log). Domains are checked by
the worker's cron job (bot.worker.crons.check_domains), once per minute whatever the replica count."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bot.deploy_service import DeployService
from bot.domains.checks import RouteSync
from bot.domains.elb import LoadBalancers
from bot.domains.route53 import Route53Zones
from bot.services import Services
from bot.web.auth import local_login_link
from bot.web.context import OAuthClient, WebState
from bot.web.mail import SesMailer
from bot.web.setup import load_registered_app
from bot.web.traffic import LocalDomainRouting, TrafficLog
from deployer.targets.local.router import Router

log = logging.getLogger("autostack.web")


def build_state(services: Services, deploy: DeployService, router: Router | None) -> WebState:
    """The page's view of the server; SES mail (sender: autostack@<host>) and Route53 records
    when AWS_REGION is set."""
    settings = services.settings
    mailer, zones = None, None
    if settings.aws_region:
        host = settings.base_url.split("://", 1)[-1].split(":")[0].split("/")[0]
        mailer = SesMailer(settings.aws_region, f"autostack@{host}")
        zones = Route53Zones(load_balancers=LoadBalancers(settings.aws_region))
    return WebState(
        settings=settings,
        sessions=services.sessions,
        keyring=services.keyring,
        oauth=OAuthClient(settings.client_id, settings.client_secret),
        deploy=deploy,
        routing=LocalDomainRouting(router) if router is not None else None,
        mailer=mailer,
        dns_zones=zones,
        # a dry run would answer "admin" for everyone's permission: only a real App is asked
        github=services.apps if settings.github_app_configured else None,
    )


@contextlib.asynccontextmanager
async def running(state: WebState, router: Router | None) -> AsyncIterator[None]:
    """Run the page's background jobs while the server runs; print the local login link."""
    await load_registered_app(state)
    if not state.oauth.client_id and state.settings.embedded_database:
        state.login_token, link = local_login_link(state.settings.base_url)
        # printed, not logged: it is a credential, and logs are kept and shipped
        print(f"AutoStack: sign in once with {link}", flush=True)
    tasks: list[asyncio.Task[None]] = []
    if state.routing is not None:
        sync = RouteSync(state.sessions, state.routing)
        tasks.append(asyncio.create_task(sync.run(), name="domain-routes"))
    if router is not None:
        tasks.append(asyncio.create_task(TrafficLog(state.sessions, router).run(), name="request-log"))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
