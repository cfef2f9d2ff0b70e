"""The events app.yml subscribes to are exactly the events the handlers route."""

from __future__ import annotations

import yaml

from bot.web.setup import MANIFEST_PATH
from handlers import default_router
from tests.github_standin.manifests import AUTOMATIC


def routed_events() -> set[str]:
    """The event part of every key in the bot's route table."""
    return {key.partition(".")[0] for route in default_router().routes for key in route.keys}


def test_every_subscribed_event_is_routed_and_every_routed_event_is_subscribed():
    subscribed = set(yaml.safe_load(MANIFEST_PATH.read_text())["default_events"])
    # GitHub delivers these to every App: they are routed but never subscribed to
    received = subscribed | {"installation", "installation_repositories"}
    assert received == routed_events(), (
        f"subscribed but not handled: {sorted(received - routed_events())}; "
        f"handled but never delivered: {sorted(routed_events() - received)}"
    )


def test_the_app_subscribes_to_no_event_github_delivers_by_itself():
    subscribed = set(yaml.safe_load(MANIFEST_PATH.read_text())["default_events"])
    assert subscribed.isdisjoint(AUTOMATIC)


def test_re_run_all_checks_and_re_run_are_both_routed():
    router = default_router()
    assert [r.name for r in router.matching("check_suite", "rerequested")] == [
        "handlers.check_suite.on_rerun_all"
    ]
    # a completed suite is a CI result (`deploy.after: checks`), not a request to re-run
    assert [r.name for r in router.matching("check_suite", "completed")] == [
        "handlers.ci_results.on_ci_result"
    ]
    assert [r.name for r in router.matching("check_run", "rerequested")] == ["handlers.check_run.on_rerun"]


def test_ci_results_of_actions_and_of_commit_statuses_are_routed():
    router = default_router()
    for event, action in (
        ("check_run", "completed"),
        ("check_suite", "completed"),
        ("workflow_run", "completed"),
        ("status", None),
    ):
        assert [r.name for r in router.matching(event, action)] == ["handlers.ci_results.on_ci_result"]
    assert router.matching("workflow_run", "requested") == []
    assert [r.name for r in router.matching("check_run", "created")] == []
