"""Kubernetes builds keep their BuildKit cache mounts: package caches in generated Dockerfiles, and
BuildKit's state on a volume of the environment's own (pure)."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import kubernetes_validate
import pytest

from deployer.config import parse_config
from deployer.detect import detect
from deployer.plan import make_plan
from deployer.targets.base import Site
from deployer.targets.kubernetes import dockerfile
from deployer.targets.kubernetes.buildjob import (
    STATE_DIR,
    BuildSpec,
    build_objects,
    build_script,
    cache_objects,
)

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
START = '{"scripts": {"start": "node server.js"}}'
REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/autostack/shop"
SPEC = BuildSpec(
    site=Site("shop", "pr-7", 42),
    namespace="autostack-shop",
    image_repo=REPO,
    cache_repo=REPO + "/cache",
    source_url="https://bucket.s3.amazonaws.com/sources/shop/42.tar.gz?X-Amz-Signature=abc",
)


def _dockerfile(app: str, files: dict[str, str] | None = None, tmp: Path | None = None) -> str:
    root = APPS / app
    if files is not None and tmp is not None:
        root = tmp
        for name, text in files.items():
            (root / name).write_text(text)
    return dockerfile.generate(make_plan(parse_config(""), detect(root)))


@pytest.mark.parametrize(
    ("app", "lines"),
    [
        (
            "nextjs",
            [
                "ENV npm_config_cache=/cache/npm",
                "RUN --mount=type=cache,target=/cache/npm npm ci --no-audit --no-fund",
                "RUN --mount=type=cache,target=/app/.next/cache npm run build",
            ],
        ),
        (
            "flask-gunicorn",
            [
                "ENV PIP_CACHE_DIR=/cache/pip",
                "RUN --mount=type=cache,target=/cache/pip pip install -r requirements.txt",
            ],
        ),
        (
            "go-http",
            [
                "ENV GOMODCACHE=/cache/go/mod GOCACHE=/cache/go/build",
                "RUN --mount=type=cache,target=/cache/go go mod download",
                "RUN --mount=type=cache,target=/cache/go CGO_ENABLED=0 go build -o /out/app .",
            ],
        ),
        (
            "rust-std",
            ["--mount=type=cache,target=/usr/local/cargo/registry --mount=type=cache,target=/app/target"],
        ),
        ("spring-maven", ["RUN --mount=type=cache,target=/root/.m2 mvn -B -DskipTests package"]),
    ],
)
def test_generated_dockerfiles_mount_the_package_caches(app, lines):
    text = _dockerfile(app)
    for line in lines:
        assert line in text, text


def test_pip_no_longer_throws_its_cache_away():
    assert "PIP_NO_CACHE_DIR" not in _dockerfile("flask-gunicorn")


@pytest.mark.parametrize(
    ("files", "line"),
    [
        (
            {"package.json": START, "yarn.lock": ""},
            "RUN --mount=type=cache,target=/cache/yarn yarn install --frozen-lockfile",
        ),
        ({"package.json": START, "pnpm-lock.yaml": ""}, "ENV npm_config_store_dir=/cache/pnpm-store"),
        (
            {"pyproject.toml": '[project]\nname="x"\ndependencies=["flask"]\n', "uv.lock": "", "app.py": ""},
            "ENV UV_CACHE_DIR=/cache/uv UV_LINK_MODE=copy",
        ),
    ],
)
def test_other_package_managers_get_their_own_cache(tmp_path, files, line):
    assert line in _dockerfile("", files, tmp_path)


def test_buildkit_state_lives_on_the_environments_own_volume():
    (claim,) = cache_objects(SPEC)
    kubernetes_validate.validate(claim, "1.36.0", strict=True)
    assert claim["kind"] == "PersistentVolumeClaim"
    assert claim["metadata"]["name"] == "buildkit-pr-7"
    assert claim["metadata"]["labels"]["autostack.dev/environment"] == "pr-7"
    # labelled as the build's: prune leaves it, teardown of the environment deletes it
    assert claim["metadata"]["labels"]["autostack.dev/component"] == "build"
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert "storageClassName" not in claim["spec"]

    *_, job = build_objects(SPEC)
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["buildkitd"] == {
        "name": "buildkitd",
        "persistentVolumeClaim": {"claimName": "buildkit-pr-7"},
    }
    mounts = job["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "buildkitd", "mountPath": STATE_DIR} in mounts


def test_two_builds_of_one_environment_take_turns_on_its_volume():
    args = shlex.split(build_script(SPEC).split("; ")[1])
    assert args[:4] == ["flock", "-w", "1800", f"{STATE_DIR}/.autostack-build.lock"]
    assert args[4] == "buildctl-daemonless.sh"


def test_without_a_volume_the_state_is_the_pods_own():
    spec = dataclasses.replace(SPEC, cache_size="")
    assert cache_objects(spec) == []
    *_, job = build_objects(spec)
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["buildkitd"] == {"name": "buildkitd", "emptyDir": {}}
    assert "flock" not in build_script(spec)


def test_a_storage_class_is_named_when_given():
    (claim,) = cache_objects(dataclasses.replace(SPEC, cache_storage_class="gp3", cache_size="50Gi"))
    assert claim["spec"]["storageClassName"] == "gp3"
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
