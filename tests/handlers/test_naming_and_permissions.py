"""Environment names and who may do what (pure tables)."""

from __future__ import annotations

import pytest

from handlers.commands.registry import BY_NAME
from handlers.heads import event_time, is_stale
from handlers.permissions import LEVELS, PermissionCache, allows, needed_level, refusal
from store import environment_names as environments
from tests.handlers.doubles import FakeGitHub


@pytest.mark.parametrize(
    ("branch", "name"),
    [
        ("staging", "branch-staging"),
        ("feature/Login_v2", "branch-feature-login-v2"),
        ("--odd--", "branch-odd"),
        ("ünïcode", "branch-n-code"),
        ("///", "branch-branch"),
    ],
)
def test_branch_names(branch: str, name: str):
    assert environments.branch_name(branch) == name
    assert environments.is_valid(name)


def test_long_branch_names_are_cut_and_told_apart():
    first, second = environments.branch_name("x" * 80 + "a"), environments.branch_name("x" * 80 + "b")
    assert first != second and first.startswith("branch-" + "x" * 33 + "-")
    assert len(first) == len("branch-") + 40 and environments.is_valid(first)


@pytest.mark.parametrize(
    ("name", "valid", "number"),
    [
        ("production", True, None),
        ("pr-12", True, 12),
        ("pr-0", False, None),
        ("pr-x", False, None),
        ("branch-main", True, None),
        ("branch-", False, None),
        ("staging", False, None),
        ("Production", False, None),
    ],
)
def test_environment_names(name: str, valid: bool, number: int | None):
    assert environments.is_valid(name) is valid
    assert environments.preview_number(name) == number


@pytest.mark.parametrize(
    ("name", "github"),
    [
        ("production", "production"),
        ("pr-2", "Preview"),
        ("pr-1234", "Preview"),
        ("branch-staging", "branch-staging"),
    ],
)
def test_previews_share_one_github_environment(name: str, github: str):
    assert environments.github_environment(name) == github


@pytest.mark.parametrize(
    ("ref", "branch"),
    [("refs/heads/main", "main"), ("refs/heads/a/b", "a/b"), ("refs/tags/v1", None), ("main", None)],
)
def test_branch_of(ref: str, branch: str | None):
    assert environments.branch_of(ref) == branch


def test_event_times_and_staleness():
    pushed = event_time(1_700_000_000)
    assert pushed == event_time("2023-11-14T22:13:20Z")
    assert event_time(None) is None and event_time("garbage") is None
    later = event_time(1_700_000_001)
    assert is_stale(later, pushed) and not is_stale(pushed, later)
    assert not is_stale(pushed, pushed)  # same second: the later arrival wins
    assert not is_stale(None, pushed) and not is_stale(pushed, None)


COMMAND_CASES = [
    ("deploy", (), "write"),
    ("deploy", ("preview",), "write"),
    ("deploy", ("pr-2",), "write"),
    ("deploy", ("production",), "production"),
    ("deploy", ("branch-staging",), "production"),
    ("redeploy", (), "write"),
    ("rollback", (), "production"),
    ("promote", (), "production"),
    ("destroy", (), "production"),
    ("status", (), "anyone"),
    ("help", (), "anyone"),
]


@pytest.mark.parametrize(("command", "args", "requirement"), COMMAND_CASES)
@pytest.mark.parametrize("production", ["maintain", "admin"])
@pytest.mark.parametrize("role", LEVELS)
def test_permission_matrix(command: str, args: tuple[str, ...], requirement: str, production: str, role: str):
    declared = BY_NAME[command].requirement(args)
    assert declared == requirement
    needed = needed_level(declared, production)  # type: ignore[arg-type]
    expected = {
        "anyone": True,
        "write": role in ("write", "maintain", "admin"),
        "production": role in (("maintain", "admin") if production == "maintain" else ("admin",)),
    }[requirement]
    assert allows(role, needed) is expected


def test_unknown_roles_allow_nothing_that_needs_access():
    assert not allows("weird", "read") and allows("weird", "none")


def test_refusal_names_the_permission_needed():
    text = refusal("octocat", "/deploy production", "maintain", "write", "o/r")
    assert "`/deploy production` needs **maintain** access to o/r; you have write access" in text
    assert "you have no access" in refusal("x", "/redeploy", "write", "none", "o/r")


async def test_permission_answers_are_cached_briefly():
    now = [0.0]
    cache = PermissionCache(ttl=60, clock=lambda: now[0])
    github = FakeGitHub(permissions={"octocat": "write"})
    assert await cache.level(github, "o/r", "octocat") == "write"
    github.permissions["octocat"] = "admin"
    now[0] = 59
    assert await cache.level(github, "O/R", "Octocat") == "write"
    now[0] = 61
    assert await cache.level(github, "o/r", "octocat") == "admin"
    assert github.permission_calls == 2
