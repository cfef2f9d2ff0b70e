"""The build context uploaded for the build Job: the app folder, the generated Dockerfile, no .git."""

from __future__ import annotations

import io
import tarfile

from deployer.targets.kubernetes.target import tarball


def test_tarball_adds_generated_files_and_leaves_git_out(tmp_path):
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    data = tarball(tmp_path, {"Dockerfile.autostack": "FROM python:3.12-slim\n"})
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = set(tar.getnames())
        generated = tar.extractfile("Dockerfile.autostack").read().decode()
    assert {"./app.py", "Dockerfile.autostack"} <= names
    assert not any(".git" in n for n in names)
    assert generated == "FROM python:3.12-slim\n"
