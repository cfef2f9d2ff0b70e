"""Helm for the tests: the binary cluster/helm.sh builds, and `helm template` as objects."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "autostack"


def kubernetes_version() -> str:
    """The Kubernetes release of the test control plane (cluster/go.mod), e.g. 1.36.1."""
    found = re.search(r"k8s\.io/kubernetes v(\d+\.\d+\.\d+)", (REPO / "cluster" / "go.mod").read_text())
    assert found, "cluster/go.mod pins no k8s.io/kubernetes"
    return found.group(1)


def helm_binary() -> str:
    """The helm cluster/helm.sh built; skips (fails under CI=true) when it has not been built."""
    path = subprocess.run(
        [str(REPO / "cluster" / "helm.sh"), "--print"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if os.access(path, os.X_OK):
        return path
    reason = f"helm is not built ({path} is missing): run cluster/helm.sh (needs Go)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)  # .ci/run builds it first: CI always runs these tests
    pytest.skip(reason)


def run_helm(helm: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run helm with its state kept out of the user's home."""
    home = REPO / ".pytest_cache" / "helm"
    env = {
        "PATH": os.environ["PATH"],
        # without a HOME helm would keep its kubeconfig discovery cache in the working directory
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    if "KUBECONFIG" in os.environ:
        env["KUBECONFIG"] = os.environ["KUBECONFIG"]
    result = subprocess.run([helm, *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def template(helm: str, values: Path | None = None, *sets: str) -> list[dict[str, Any]]:
    """The chart rendered as a release `autostack` in namespace `autostack`."""
    args = ["template", "autostack", str(CHART), "--namespace", "autostack"]
    args += ["--kube-version", kubernetes_version()]
    if values is not None:
        args += ["--values", str(values)]
    for item in sets:
        args += ["--set", item]
    text = run_helm(helm, *args).stdout
    return [obj for obj in yaml.safe_load_all(text) if obj]
