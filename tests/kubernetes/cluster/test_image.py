"""The Dockerfile built into an image with Debian's buildah (cluster/image.sh) and run the way
charts/autostack runs it: as its non-root USER, on a read-only root with /tmp and the data
folder writable. The base is made from Debian's packages once per machine (no registry here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.chart.helm import REPO

IMAGE_SH = REPO / "cluster" / "image.sh"
# a dev tool of the lock that the image must not hold, and a runtime dependency it must
PROBE = (
    "import importlib.util as u, os, pathlib; "
    "print(os.getuid(), os.getgid(), u.find_spec('pytest') is None, u.find_spec('githubkit') is not None); "
    "pathlib.Path(os.environ['TMPDIR'], 'ok').write_text('x'); "
    "pathlib.Path('/opt/autostack/touched').write_text('x')"
)


@pytest.fixture(scope="module")
def image():
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    if missing:
        reason = f"image not built: {', '.join(missing)} not installed (apt-get install buildah debootstrap)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)  # .ci/run installs both
        print(reason)
        pytest.skip(reason)
    start = time.monotonic()
    built = subprocess.run(
        [str(IMAGE_SH), "build"], capture_output=True, text=True, timeout=1200, check=False
    )
    assert built.returncode == 0, built.stderr
    print(f"{built.stderr.strip()} ({time.monotonic() - start:.0f}s with the base)")
    yield built.stdout.strip()
    subprocess.run([str(IMAGE_SH), "clean"], check=False)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(IMAGE_SH), "run", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_image_runs_autostack_as_non_root_on_a_read_only_root(image):
    shown = _run("--help")
    assert shown.returncode == 0, shown.stderr
    assert "usage: autostack" in shown.stdout and "migrate" in shown.stdout
    deploys = _run("worker", "--help")
    assert "--deploys" in deploys.stdout


def test_only_tmp_is_writable_and_dev_tools_are_absent(image):
    result = subprocess.run(
        [str(IMAGE_SH), "exec", "/opt/autostack/bin/python", "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.split() == ["10001", "10001", "True", "True"], result.stderr
    assert "Read-only file system: '/opt/autostack/touched'" in result.stderr
