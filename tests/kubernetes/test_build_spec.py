"""The build Job and the generated Dockerfiles (pure)."""

from __future__ import annotations

import base64
import dataclasses
import json
import shlex

import kubernetes_validate
import pytest

from deployer.targets.base import Site, TargetError
from deployer.targets.kubernetes import dockerfile
from deployer.targets.kubernetes.buildjob import BuildSpec, build_objects, build_script
from tests.kubernetes.conftest import example_plan

REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/autostack/shop"
SPEC = BuildSpec(
    site=Site("shop", "pr-7", 42),
    namespace="autostack-shop",
    image_repo=REPO,
    cache_repo=REPO + "/cache",
    source_url="https://bucket.s3.amazonaws.com/sources/shop/42.tar.gz?X-Amz-Signature=abc",
    docker_config={"auths": {"123456789012.dkr.ecr.eu-west-1.amazonaws.com": {"auth": "QVdTOnNlY3JldA=="}}},
)


def test_build_objects_validate_and_carry_the_environment_labels():
    secret, job = build_objects(SPEC)
    for obj in (secret, job):
        kubernetes_validate.validate(obj, "1.36.0", strict=True)
        assert obj["metadata"]["labels"]["autostack.dev/environment"] == "pr-7"
    assert job["metadata"]["name"] == "build-42"
    assert job["spec"]["template"]["metadata"]["labels"]["autostack.dev/component"] == "build"
    assert job["spec"]["backoffLimit"] == 0
    assert json.loads(base64.b64decode(secret["data"][".dockerconfigjson"])) == SPEC.docker_config


def test_fork_build_exports_only_to_its_own_cache_and_reads_production():
    fork = dataclasses.replace(
        SPEC,
        image_repo=REPO + "/untrusted",
        cache_repo=REPO + "/untrusted/cache",
        production_cache=REPO + "/cache",
    )
    args = shlex.split(build_script(fork).split(";")[1])
    assert [a for a in args if a.startswith("--export-cache")] == [
        f"--export-cache=type=registry,ref={REPO}/untrusted/cache:pr-7,mode=max,image-manifest=true"
    ]
    assert [a for a in args if a.startswith("--import-cache")] == [
        f"--import-cache=type=registry,ref={REPO}/untrusted/cache:pr-7",
        f"--import-cache=type=registry,ref={REPO}/cache:production",
    ]
    assert f"--output=type=image,name={REPO}/untrusted:pr-7-42,push=true" in args


def test_build_pushes_an_immutable_tag_and_caches_per_environment_then_production():
    script = build_script(SPEC)
    assert f"name={REPO}:pr-7-42,push=true" in script
    assert script.index(f"ref={REPO}/cache:pr-7") < script.index(f"ref={REPO}/cache:production")
    assert "--export-cache=type=registry,ref=" + REPO + "/cache:pr-7,mode=max" in script
    assert script.endswith("> /dev/termination-log")


@pytest.mark.parametrize(
    ("example", "expect"),
    [
        (
            "flask",
            ["FROM python:3.12-slim AS deps", "COPY requirements.txt ./", "USER 10001:10001", "0.0.0.0"],
        ),
        (
            "fastapi",
            [
                "RUN --mount=type=cache,target=/cache/pip pip install -r requirements.txt",
                "COPY --chown=10001:10001 . .",
            ],
        ),
        (
            "express",
            ["FROM node:22-slim AS deps", "COPY package.json package-lock.json ./", "USER 10001:10001"],
        ),
        ("static", ["FROM nginxinc/nginx-unprivileged", "USER 10001:10001"]),
    ],
)
def test_generated_dockerfile_copies_lockfiles_before_source(example, expect):
    plan = example_plan(example)
    text = dockerfile.generate(plan)
    for line in expect:
        assert line in text
    assert "127.0.0.1" not in text
    if plan.lockfiles:  # dependency layers come before the source, so they survive code changes
        assert text.index(f"COPY {plan.lockfiles[0]}") < text.index(" . .")


def test_no_dockerfile_for_unknown_runtime():
    with pytest.raises(TargetError, match="add a Dockerfile"):
        dockerfile.generate(dataclasses.replace(example_plan("flask"), runtime="docker"))
