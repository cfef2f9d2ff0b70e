"""Build-time variables on the kubernetes target: plain ones as build arguments, secrets only as
BuildKit secret mounts from the build's own Secret (pure rendering)."""

from __future__ import annotations

import base64
import dataclasses
import json
import shlex

import kubernetes_validate
import pytest

from deployer.targets.base import Site
from deployer.targets.kubernetes import dockerfile
from deployer.targets.kubernetes.buildjob import BuildSpec, build_objects, build_script
from tests.kubernetes.conftest import example_plan

REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/autostack/shop"
TOKEN = "npm_s3cr3tT0ken"
PLAIN = {"NEXT_PUBLIC_API": "https://api.example.com", "AUTOSTACK_GIT_SHA": "abc123", "QUOTED": "a 'b' $c"}
SPEC = BuildSpec(
    site=Site("shop", "pr-7", 42),
    namespace="autostack-shop",
    image_repo=REPO,
    cache_repo=REPO + "/cache",
    source_url="https://bucket.s3.amazonaws.com/sources/shop/42.tar.gz",
    build_args=PLAIN,
    secrets={"NPM_TOKEN": TOKEN},
)


def _buildctl_args(spec: BuildSpec) -> list[str]:
    return shlex.split(build_script(spec).split("; ")[1])


def test_plain_variables_are_build_arguments_and_secrets_are_files():
    args = _buildctl_args(SPEC)
    assert "--opt=build-arg:NEXT_PUBLIC_API=https://api.example.com" in args
    assert "--opt=build-arg:QUOTED=a 'b' $c" in args  # quoted for sh, arrives whole
    assert "--secret=id=NPM_TOKEN,src=/home/user/build-secrets/NPM_TOKEN" in args
    assert not [a for a in args if "NPM_TOKEN" in a and a.startswith("--opt")]


def test_secret_value_is_only_in_the_builds_own_secret():
    objects = build_objects(SPEC)
    assert [o["kind"] for o in objects] == ["Secret", "Secret", "Job"]
    registry, secrets, job = objects
    for obj in objects:
        kubernetes_validate.validate(obj, "1.36.0", strict=True)
    assert secrets["metadata"]["name"] == "build-42-secrets"
    assert base64.b64decode(secrets["data"]["NPM_TOKEN"]).decode() == TOKEN
    encoded = base64.b64encode(TOKEN.encode()).decode()
    for obj in (registry, job):
        text = json.dumps(obj)
        assert TOKEN not in text and encoded not in text
    pod = job["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "build-secrets")
    assert volume["secret"]["secretName"] == "build-42-secrets"
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "build-secrets")
    assert mount == {"name": "build-secrets", "mountPath": "/home/user/build-secrets", "readOnly": True}


def test_a_build_without_secrets_has_no_secrets_object_or_volume():
    objects = build_objects(dataclasses.replace(SPEC, secrets={}))
    assert [o["kind"] for o in objects] == ["Secret", "Job"]
    assert "build-secrets" not in json.dumps(objects[1])
    assert "--secret" not in build_script(dataclasses.replace(SPEC, secrets={}))


@pytest.mark.parametrize("example", ["express", "flask"])
def test_generated_dockerfile_mounts_secrets_and_declares_arguments(example):
    plan = dataclasses.replace(example_plan(example), build="make assets")
    text = dockerfile.generate(plan, PLAIN, {"NPM_TOKEN": TOKEN})
    lines = text.splitlines()
    install = next(i for i, line in enumerate(lines) if line.endswith(plan.install))
    build = next(i for i, line in enumerate(lines) if line.endswith("make assets"))
    mount = "--mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN "
    assert lines[install].startswith("RUN " + mount) and lines[build].startswith("RUN " + mount)
    assert lines[install - 1] == "ARG NEXT_PUBLIC_API QUOTED"
    # the per-commit built-ins come after the install, so its layer survives a new commit
    assert lines[build - 1] == "ARG AUTOSTACK_GIT_SHA"
    assert "AUTOSTACK_GIT_SHA" not in "\n".join(lines[:install])
    assert TOKEN not in text and "ARG NPM_TOKEN" not in text and "abc123" not in text


def test_generated_dockerfile_without_variables_is_unchanged():
    plan = example_plan("express")
    assert dockerfile.generate(plan) == dockerfile.generate(plan, (), ())
    assert "ARG" not in dockerfile.generate(plan) and "type=secret" not in dockerfile.generate(plan)
