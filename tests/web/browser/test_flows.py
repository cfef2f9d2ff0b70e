"""The page in headless Chromium: sign in, a live log, a secret, a domain, an invitation, analytics."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.domains.dns import txt_value
from store.models import Deployment, DeploymentLog, Domain, utcnow
from tests.web.dns_server import dns_server

SECRET_VALUE = "pk_live_never_show_this_7731"


def sign_in(page, served, standin, login="alice", orgs=None) -> None:
    standin.add_user(login, orgs={"octo-org": "admin"} if orgs is None else orgs)
    standin.oauth_login = login
    page.goto(served.url + "/login")
    page.click("#github-login")
    page.wait_for_url(re.compile(r"/$"))


def test_sign_in_with_github_and_see_projects(page, served, github_standin):
    sign_in(page, served, github_standin)
    assert page.locator("header .who").inner_text().startswith("alice · octo-org · owner")
    page.wait_for_selector("text=http://production.shop.localhost")
    page.click("text=shop")
    page.wait_for_selector("h2:has-text('Environments')")


async def _running(sessions, env_id, project_id):
    async with sessions.begin() as session:
        running = Deployment(
            project_id=project_id,
            environment_id=env_id,
            environment="pr-1",
            trigger="push",
            state="building",
            phases={"source": {}},
            # as if another worker ran it: the deploy worker here fails a build nobody holds
            claimed_by="elsewhere",
            lease_expires_at=utcnow() + timedelta(minutes=5),
        )
        session.add(running)
        await session.flush()
        session.add(DeploymentLog(deployment_id=running.id, seq=1, line="step 1: installing"))
        return running.id


async def _more_log(sessions, deployment_id, seq, text, finish=False):
    async with sessions.begin() as session:
        session.add(DeploymentLog(deployment_id=deployment_id, seq=seq, line=text))
        if finish:
            row = await session.get(Deployment, deployment_id)
            row.state, row.ready_at, row.finished_at = "ready", utcnow(), utcnow()


def test_deployment_log_streams_live(page, served, github_standin):
    sign_in(page, served, github_standin)
    deployment_id = served.run(
        _running(served.state.sessions, served.seed.preview_id, served.seed.project_id)
    )
    page.goto(f"{served.url}/deployments/{deployment_id}")
    page.wait_for_selector("#log:has-text('step 1: installing')")
    served.run(_more_log(served.state.sessions, deployment_id, 2, "step 2: building the app"))
    page.wait_for_selector("#log:has-text('step 2: building the app')")
    served.run(_more_log(served.state.sessions, deployment_id, 3, "step 3: live", finish=True))
    page.wait_for_selector("#state.ready")
    assert page.locator("#log").inner_text().count("step 1: installing") == 1


def test_secret_env_var_is_never_shown_again(page, served, github_standin):
    sign_in(page, served, github_standin)
    page.goto(f"{served.url}/projects/shop/env")
    page.fill("#add-var input[name=key]", "STRIPE_KEY")
    page.fill("#add-var input[name=value]", SECRET_VALUE)
    page.select_option("#add-var select[name=scope]", "production")
    page.check("#add-var input[name=secret]")
    page.click("#add-var button")
    page.wait_for_selector("#vars:has-text('STRIPE_KEY')")
    page.wait_for_selector("#redeploy-production")
    assert SECRET_VALUE not in page.content()
    page.reload()
    assert SECRET_VALUE not in page.content()
    replace = page.locator("#vars tr", has_text="STRIPE_KEY").locator("input[name=value]")
    assert replace.get_attribute("type") == "password" and replace.input_value() == ""
    assert replace.get_attribute("placeholder") == "write-only: type a new value"


def test_domain_pending_then_verified(page, served, github_standin):
    sign_in(page, served, github_standin)
    with dns_server() as (zone, address):
        served.state.nameservers = address
        page.goto(f"{served.url}/projects/shop/domains")
        page.fill("#add-domain input[name=hostname]", "www.shop-example.com")
        page.click("#add-domain button")
        page.wait_for_selector("tr[data-domain='www.shop-example.com'] .state.pending")
        page.click("tr[data-domain='www.shop-example.com'] button:has-text('Check now')")
        page.wait_for_selector("tr[data-domain='www.shop-example.com'] .error:has-text('not found')")

        async def token():
            async with served.state.sessions() as session:
                return (await session.scalars(select(Domain.token))).one()

        zone.records[("_autostack.www.shop-example.com", "TXT")] = txt_value(served.run(token()))
        page.click("tr[data-domain='www.shop-example.com'] button:has-text('Check now')")
        page.wait_for_selector("tr[data-domain='www.shop-example.com'] .state.verified")


def test_invite_a_member(page, served, github_standin, browser):
    sign_in(page, served, github_standin)
    page.goto(f"{served.url}/team")
    page.select_option("#invite select[name=role]", "viewer")
    page.click("#invite button")
    link = page.locator("#invite-link code").inner_text().strip()
    assert "/invite/" in link
    other = browser.new_context().new_page()
    try:
        github_standin.add_user("dave", orgs={})
        github_standin.oauth_login = "dave"
        other.goto(link)
        other.wait_for_url(re.compile(r"/$"))
        assert "dave · octo-org · viewer" in other.locator("header .who").inner_text()
    finally:
        other.context.close()
    page.reload()
    page.wait_for_selector("#members:has-text('dave')")


def test_view_analytics(page, served, github_standin):
    sign_in(page, served, github_standin)
    page.goto(f"{served.url}/projects/shop/analytics")
    assert page.locator("svg.chart").count() == 3
    page.wait_for_selector("#health b")
    assert page.locator("#summary").inner_text().count("100%") == 1
