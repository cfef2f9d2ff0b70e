"""The comment parser in a monorepo: an app may come first among a command's arguments;
and which project each command then acts on (pure tables)."""

from __future__ import annotations

import pytest

from handlers.commands.parser import Reply, Run
from handlers.commands.registry import command_hint, help_text, parse_comment
from handlers.commands.spec import Invocation as I
from handlers.commands.targets import Step, plan
from handlers.project_lookup import ProjectRef

APPS = ("api", "web")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/deploy api production", (I("deploy", ("production",), "api"),)),
        ("/deploy API", (I("deploy", (), "api"),)),
        ("/deploy production", (I("deploy", ("production",)),)),
        ("/autostack deploy web preview", (I("deploy", ("preview",), "web"),)),
        ("/lock web production db failover", (I("lock", ("production", "db", "failover"), "web"),)),
        ("/lock production web is down", (I("lock", ("production", "web", "is", "down")),)),
        ("/lock incident", (I("lock", ("incident",)),)),
        ("/unlock api", (I("unlock", (), "api"),)),
        ("/rollback api 41", (I("rollback", ("41",), "api"),)),
        ("/promote web\n/status", (I("promote", (), "web"), I("status"))),
        ("/destroy api\n/destroy web", (I("destroy", (), "api"), I("destroy", (), "web"))),
        ("/status api", (I("status", (), "api"),)),
    ],
)
def test_an_app_may_come_first(text: str, expected: tuple[I, ...]):
    assert parse_comment(text, apps=APPS) == Run(expected)


@pytest.mark.parametrize(
    "text",
    ["/deploy production", "/lock web is down", "/rollback 41", "/unlock production", "/deploy"],
)
def test_a_one_app_repository_reads_arguments_as_before(text: str):
    [invocation] = parse_comment(text).invocations  # type: ignore[union-attr]
    assert invocation.app is None and invocation.text == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "/deploy mobile production",
            "`/deploy mobile production`: too many arguments; usage: "
            "`/deploy [<app>] [preview|production|<env>]`.",
        ),
        ("/deploy api production now", "usage: `/deploy [<app>] [preview|production|<env>]`"),
        ("/help api", "`/help api`: `/help` takes no app"),
    ],
)
def test_bad_app_arguments_are_answered(text: str, problem: str):
    parsed = parse_comment(text, apps=APPS)
    assert isinstance(parsed, Reply)
    assert problem in parsed.text and "Nothing was run." in parsed.text


def test_help_shows_the_app_form_only_in_a_monorepo():
    mono, single = help_text(apps=APPS), help_text()
    assert "| `/deploy [<app>] [preview|production|<env>]` |" in mono
    assert "| `/lock [<app>] [production|preview|<env>] [reason]` |" in mono
    assert "| `/help` |" in mono and "(`api`, `web`)" in mono and "`/rollback` asks which app" in mono
    assert "<app>" not in single and "| `/deploy [preview|production|<env>]` |" in single


def test_the_sticky_comment_hint():
    assert command_hint() == "Commands: `/redeploy` · `/promote` · `/destroy` · `/help`"
    assert command_hint(APPS) == (
        "Commands: `/redeploy [<app>]` · `/promote [<app>]` · `/destroy [<app>]` · `/help` (apps: `api`, `web`)"
    )


def ref(app: str) -> ProjectRef:
    return ProjectRef(len(app), f"shop-{app}" if app else "shop", "o/shop", "main", app)


MONO = {"api": ref("api"), "web": ref("web")}


def apps_of(steps: list[Step] | str) -> list[tuple[str, str]] | str:
    return steps if isinstance(steps, str) else [(s.invocation.name, s.project.app) for s in steps]


@pytest.mark.parametrize(
    ("invocations", "projects", "previewed", "expected"),
    [
        ((I("deploy"),), {"": ref("")}, (), [("deploy", "")]),
        ((I("rollback"),), {"": ref("")}, (), [("rollback", "")]),
        ((I("deploy", (), "web"),), MONO, ("api",), [("deploy", "web")]),
        ((I("deploy"),), MONO, ("api",), [("deploy", "api")]),
        ((I("destroy"),), MONO, ("api", "web"), [("destroy", "api"), ("destroy", "web")]),
        ((I("promote"), I("redeploy")), MONO, ("web",), [("promote", "web"), ("redeploy", "web")]),
        ((I("lock", ("incident",)),), MONO, (), [("lock", "api"), ("lock", "web")]),
        ((I("unlock"),), MONO, ("api",), [("unlock", "api"), ("unlock", "web")]),
        ((I("status"),), MONO, (), [("status", "api"), ("status", "web")]),
        ((I("help"),), MONO, (), [("help", "api")]),
        ((I("rollback", (), "api"),), MONO, (), [("rollback", "api")]),
        (
            (I("rollback"),),
            MONO,
            ("api", "web"),
            "This repository has several apps (api, web): name the one to act on, as in `/rollback api`.",
        ),
        (
            (I("deploy", ("production",)),),
            MONO,
            (),
            "This repository has several apps (api, web) and #7 changes none of its apps: "
            "name one, as in `/deploy api production`.",
        ),
        # one command nothing can be planned for: none of the comment runs
        ((I("lock"), I("rollback")), MONO, (), "name the one to act on, as in `/rollback api`."),
        (
            (I("deploy", (), "api"),),
            {"web": ref("web")},
            (),
            "`api` is not a deployed app of this repository",
        ),
    ],
)
def test_which_apps_a_command_acts_on(invocations, projects, previewed, expected):
    found = apps_of(plan(invocations, projects, previewed, 7))
    if isinstance(expected, str):
        assert isinstance(found, str) and expected in found
    else:
        assert found == expected
