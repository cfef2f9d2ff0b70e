"""The comment parser, by topic: ignored text, help, unknown commands, arguments, quoting."""

from __future__ import annotations

import pytest

from handlers.commands.parser import MAX_COMMANDS, Ignore, Reply, Run, command_lines
from handlers.commands.registry import COMMANDS, help_text, parse_comment
from handlers.commands.spec import Invocation as I


def run(*invocations: I) -> Run:
    return Run(tuple(invocations))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "LGTM, ship it",
        "please /deploy this",  # not at the start of a line
        "`/deploy` is how you deploy",
        "/usr/local/bin is on PATH",
        "/ deploy",
        "//deploy",
        "http://example.com/deploy",
    ],
)
def test_ignored_text(text: str):
    assert parse_comment(text) == Ignore()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/deploy", run(I("deploy"))),
        ("/deploy production", run(I("deploy", ("production",)))),
        ("  /redeploy  ", run(I("redeploy"))),
        ("/DEPLOY", run(I("deploy"))),
        ("/autostack deploy production", run(I("deploy", ("production",)))),
        ("/autostack /promote", run(I("promote"))),
        ("/rollback 41", run(I("rollback", ("41",)))),
        ("/rollback 3f2a9c1", run(I("rollback", ("3f2a9c1",)))),
        ("/deploy\n/status", run(I("deploy"), I("status"))),
        ("/deploy\r\n\r\n/deploy", run(I("deploy"))),  # repeats run once
        ("Thanks!\n\n/promote\n\nSee you", run(I("promote"))),
        ("/lock", run(I("lock"))),
        ("/lock incident 42: db failover", run(I("lock", ("incident", "42:", "db", "failover")))),
        ("/lock preview  waiting  on design", run(I("lock", ("preview", "waiting", "on", "design")))),
        ("/unlock", run(I("unlock"))),
        ("/autostack unlock production", run(I("unlock", ("production",)))),
    ],
)
def test_commands_and_arguments(text: str, expected: Run):
    assert parse_comment(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("/deploy production now", "`/deploy production now`: too many arguments"),
        ("/redeploy please", "`/redeploy please`: too many arguments"),
        ("/promote 12", "`/promote 12`: too many arguments"),
        ("/rollback 1 2", "too many arguments; usage: `/rollback [<deployment>|<sha>]`"),
        ("/unlock production now", "too many arguments; usage: `/unlock [production|preview|<env>]`"),
    ],
)
def test_bad_arguments_are_answered_with_usage(text: str, problem: str):
    parsed = parse_comment(text)
    assert isinstance(parsed, Reply) and problem in parsed.text and "Nothing was run." in parsed.text


@pytest.mark.parametrize(
    ("text", "name"),
    [("/shipit", "/shipit"), ("/autostack frobnicate", "/frobnicate"), ("/deploy\n/nope", "/nope")],
)
def test_unknown_commands_get_the_help_and_nothing_runs(text: str, name: str):
    parsed = parse_comment(text)
    assert isinstance(parsed, Reply)
    assert f"`{name}` is not an AutoStack command." in parsed.text
    assert help_text() in parsed.text


@pytest.mark.parametrize("text", ["/help", "/autostack", "/autostack help", "/HELP"])
def test_help(text: str):
    assert parse_comment(text) == run(I("help"))


def test_help_lists_every_declared_command_and_who_may_run_it():
    text = help_text("admin")
    for command in COMMANDS:
        assert f"`{command.usage}`" in text
    assert "| write access (admin for other environments) |" in text
    assert "maintain" not in text


@pytest.mark.parametrize(
    "text",
    [
        "> /deploy production",
        "  > /destroy",
        "```\n/deploy production\n```",
        "~~~sh\n/destroy\n~~~",
        "````\n```\n/destroy\n```\n````",
        "    /destroy",
        "\t/destroy",
    ],
)
def test_quoted_and_code_lines_are_ignored(text: str):
    assert parse_comment(text) == Ignore()


def test_text_after_a_code_block_counts_again():
    assert parse_comment("```\n/destroy\n```\n/status") == run(I("status"))


def test_an_unclosed_fence_hides_the_rest():
    assert command_lines("```\n/destroy") == []


def test_too_many_commands_run_none():
    text = "\n".join(["/status", "/help", "/deploy", "/redeploy", "/promote", "/destroy"] * 2)
    many = "\n".join(f"/rollback {n}" for n in range(MAX_COMMANDS + 1))
    assert isinstance(parse_comment(text), Run)
    assert parse_comment(many) == Reply(f"At most {MAX_COMMANDS} commands per comment; nothing was run.")
