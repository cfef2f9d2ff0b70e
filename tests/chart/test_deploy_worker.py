"""The deploy worker as its own process: `autostack worker --deploys`, and the web tier without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings

KUBERNETES = {
    "AUTOSTACK_TARGET": "kubernetes",
    "AWS_REGION": "eu-west-1",
    "SOURCES_BUCKET": "sources",
    "KUBE_IN_CLUSTER": "1",
    "APPS_DOMAIN": "apps.example.com",
    "PREVIEW_DOMAIN": "preview.example.com",
}


def _autostack(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AUTOSTACK_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**base, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (("worker", "--deploys"), KUBERNETES, "needs REDIS_URL"),
        (
            ("worker", "--deploys"),
            {"REDIS_URL": "redis://127.0.0.1:1/0"},
            "needs AUTOSTACK_TARGET=kubernetes",
        ),
        (
            ("serve",),
            {**KUBERNETES, "AUTOSTACK_DEPLOYS_IN_WEB": "0"},
            "AUTOSTACK_DEPLOYS_IN_WEB=0 needs REDIS_URL",
        ),
    ],
)
def test_a_deploy_worker_apart_from_serve_says_what_it_needs(tmp_path, args, env, named):
    result = _autostack(tmp_path, env, *args)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(("value", "in_web"), [("", True), ("1", True), ("0", False), ("false", False)])
def test_the_web_tier_keeps_its_deploy_worker_unless_told_not_to(tmp_path, value, in_web):
    env = {"AUTOSTACK_DATA_DIR": str(tmp_path), "AUTOSTACK_DEPLOYS_IN_WEB": value}
    assert Settings.from_env(env, dotenv=tmp_path / "none").deploys_in_web is in_web
