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


def test_context_keeps_inner_links_and_leaves_out_those_that_lead_outside(tmp_path):
    repo = tmp_path / "repo"
    app = repo / "apps" / "web"
    (app / "src").mkdir(parents=True)
    (app / "src" / "main.py").write_text("print('hi')\n")
    (app / ".github").mkdir()
    (app / ".github" / "ci.yml").write_text("on: push\n")
    (app / "Dockerfile.autostack").write_text("FROM evil\n")
    (repo / "packages").mkdir()
    (app / "main.py").symlink_to("src/main.py")
    (app / "shared").symlink_to("../../packages")
    (app / "up").symlink_to("src/../..")
    (repo / "web").symlink_to("apps/web")

    data = tarball(repo / "web", {"Dockerfile.autostack": "FROM python:3.12-slim\n"})

    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        links = {m.name: m.linkname for m in members if m.issym()}
        generated = tar.extractfile("Dockerfile.autostack").read().decode()
    assert links == {"./main.py": "src/main.py"}
    assert {"./src/main.py", "./.github/ci.yml"} <= set(names)
    assert names.count("Dockerfile.autostack") == 1 and "./Dockerfile.autostack" not in names
    assert generated == "FROM python:3.12-slim\n"
