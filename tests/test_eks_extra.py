"""`make run` installs no kubernetes client and no boto3 (the `eks` extra): the embedded default
runs without them, and a setting that needs them stops the start in one line naming the extra."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot import extras
from bot.settings import Settings, SettingsError
from tests.conftest import SECRET
from tests.processes import ROOT, autostack_env, run_cli, running
from tests.servers import free_ports

EKS_MODULES = ("kubernetes", "boto3", "botocore")
KUBERNETES = {"AUTOSTACK_TARGET": "kubernetes", "AWS_REGION": "eu-west-1", "SOURCES_BUCKET": "src"}


def without_eks(tmp_path: Path, **values: str) -> dict[str, str]:
    """An `autostack` environment where the eks extra's modules cannot be imported, as after
    `make run` (a None in sys.modules makes both `import` and `find_spec` miss them)."""
    hide = tmp_path / "hide-eks"
    hide.mkdir(exist_ok=True)
    (hide / "sitecustomize.py").write_text(
        f"import sys\nsys.modules.update(dict.fromkeys({EKS_MODULES!r}))\n"
    )
    return {**autostack_env(**values), "PYTHONPATH": f"{hide}:{ROOT}"}


@pytest.mark.slow
def test_serve_on_embedded_defaults_needs_no_eks_extra(tmp_path: Path):
    port, router = free_ports(2)
    env = without_eks(
        tmp_path,
        PORT=str(port),
        ROUTER_PORT=str(router),
        AUTOSTACK_DATA_DIR=str(tmp_path / "data"),
        WEBHOOK_SECRET=SECRET,
    )
    base = f"http://127.0.0.1:{port}"
    with running("serve", env=env, log=tmp_path / "serve.log", ready_url=f"{base}/readyz"):
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/", follow_redirects=True).status_code == 200
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


@pytest.mark.slow
def test_the_kubernetes_target_without_the_extra_is_one_line_naming_it(tmp_path: Path):
    env = without_eks(tmp_path, AUTOSTACK_DATA_DIR=str(tmp_path / "data"), **KUBERNETES)
    started = run_cli("serve", env=env, timeout=60)
    assert started.returncode == 2
    [line] = started.stderr.strip().splitlines()
    assert "AUTOSTACK_TARGET=kubernetes needs kubernetes and boto3" in line
    assert "autostack[eks]" in line


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (KUBERNETES, "AUTOSTACK_TARGET=kubernetes needs kubernetes and boto3"),
        (
            {"ARCHIVE_BUCKET": "logs", "AWS_REGION": "eu-west-1"},
            "ARCHIVE_BUCKET (archives in S3) needs boto3",
        ),
        ({"AWS_REGION": "eu-west-1"}, "AWS_REGION (mail through SES, domains through Route 53) needs boto3"),
    ],
)
def test_settings_that_need_the_extra_name_it(tmp_path, monkeypatch, env, named):
    monkeypatch.setattr(extras, "find_spec", lambda name: None)
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env, dotenv=tmp_path / "none")
    assert named in str(raised.value) and "pip install 'autostack[eks]'" in str(raised.value)


def test_the_embedded_default_asks_for_no_extra(tmp_path, monkeypatch):
    monkeypatch.setattr(extras, "find_spec", lambda name: None)
    assert Settings.from_env({}, dotenv=tmp_path / "none").cluster is None


def test_with_the_extra_installed_the_kubernetes_target_is_accepted(tmp_path):
    assert Settings.from_env(KUBERNETES, dotenv=tmp_path / "none").cluster is not None
