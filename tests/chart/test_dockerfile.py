"""The Dockerfile, read statically: what the image is whether or not a builder runs here (the
cluster tier builds and runs it with buildah where it can, tests/kubernetes/cluster/test_image.py)."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib

import pytest

from tests.chart.dockerfile import DOCKERFILE, final_stage_user, instructions, stages
from tests.chart.helm import REPO

TEXT = DOCKERFILE.read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM a\nRUN x \\\n  # why\n && y\nUSER 1:1\n", [("FROM", "a"), ("RUN", "x && y"), ("USER", "1:1")]),
        ("# c\n\nfrom a AS b\ncopy --from=b /x /y\n", [("FROM", "a AS b"), ("COPY", "--from=b /x /y")]),
    ],
)
def test_the_reader_joins_continuations_and_drops_comments(text, expected):
    assert instructions(text) == expected


def test_it_is_multi_stage_and_the_final_stage_takes_only_the_built_venv():
    built = stages(TEXT)
    assert len(built) >= 2
    final_copies = [rest for keyword, rest in built[-1] if keyword in ("COPY", "ADD")]
    assert final_copies == ["--from=build /opt/autostack /opt/autostack"]


def test_it_runs_as_a_numeric_non_root_user():
    user = final_stage_user()
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user} is not numeric (runAsNonRoot needs a UID)"
    assert int(user.split(":")[0]) != 0


def test_the_entrypoint_is_autostack_and_there_is_no_healthcheck():
    final = dict(stages(TEXT)[-1])
    assert json.loads(final["ENTRYPOINT"]) == ["autostack"]
    assert "HEALTHCHECK" not in dict(instructions(TEXT))


def test_home_and_tmpdir_point_at_the_paths_the_chart_mounts_writable():
    env = " ".join(rest for keyword, rest in stages(TEXT)[-1] if keyword == "ENV")
    assert "HOME=/tmp" in env and "TMPDIR=/tmp" in env
    assert "AUTOSTACK_DATA_DIR=/var/lib/autostack" in env
    # bytecode is compiled at build time: a read-only root takes no __pycache__
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "compileall" in TEXT


def test_only_runtime_dependencies_are_installed():
    runs = " ".join(rest for keyword, rest in instructions(TEXT) if keyword == "RUN")
    assert "[dev]" not in runs and ".[" not in runs
    assert not re.search(r"(-r|--requirement) requirements\.lock", runs), "the lock holds dev tools"
    assert "--constraint requirements.lock" in runs
    assert "['project']['dependencies']" in runs
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    for requirement in dev:
        assert re.split(r"[<>=\[ ]", requirement)[0] not in runs


def test_the_image_has_the_eks_extra_that_make_run_leaves_out():
    # the chart runs the kubernetes target, which needs the kubernetes client and boto3
    runs = " ".join(rest for keyword, rest in instructions(TEXT) if keyword == "RUN")
    assert "['optional-dependencies']['eks']" in runs
    assert "--constraint requirements-eks.lock" in runs
    eks = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["eks"]
    assert {re.split(r"[<>=\[ ]", requirement)[0] for requirement in eks} == {"kubernetes", "boto3"}


def test_no_build_argument_or_variable_looks_like_a_secret():
    names = [rest.split("=")[0] for keyword, rest in instructions(TEXT) if keyword == "ARG"]
    names += [
        pair.split("=")[0]
        for keyword, rest in instructions(TEXT)
        if keyword == "ENV"
        for pair in rest.split()
    ]
    assert names
    for name in names:
        assert not re.search(r"SECRET|TOKEN|PASSWORD|KEY|CREDENTIAL", name, re.I), name


def test_tests_and_local_state_stay_out_of_the_build_context():
    copied = [
        rest.split()[0] for keyword, rest in instructions(TEXT) if keyword == "COPY" and "--from" not in rest
    ]
    assert not [path for path in copied if path.startswith(("tests", ".", "bench"))]
    ignore = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()]
    rules = [line for line in ignore if line and not line.startswith("#")]

    def included(path: str) -> bool:
        keep = True
        for rule in rules:
            negated, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
                keep = negated
        return keep

    for path in (
        "tests/test_intake.py",
        ".env",
        ".venv/bin/python",
        "bench/README.md",
        ".autostack/autostack.db",
    ):
        assert not included(path), path
    for path in (
        "bot/cli.py",
        "store/migrations/env.py",
        "pyproject.toml",
        "requirements.lock",
        "requirements-eks.lock",
    ):
        assert included(path), path
