"""The release Job: the app's image with its command replaced, env only through its own Secret,
and a pod the environment's Service can never select (pure rendering)."""

from __future__ import annotations

import base64
import json

import kubernetes_validate

from deployer.targets.base import Site
from deployer.targets.kubernetes.oneoff import OneOff, oneoff_objects
from deployer.targets.kubernetes.render import Workload, render
from tests.kubernetes.conftest import DIGEST, STYLE, example_plan

PASSWORD = "db-pa55word"
RUN = OneOff(
    site=Site("shop", "production", 42),
    namespace="autostack-shop",
    image=DIGEST,
    command="python manage.py migrate --noinput",
    what="release",
    plan=example_plan("flask"),
    env={"DATABASE_URL": f"postgres://app:{PASSWORD}@db/shop", "AUTOSTACK_GIT_SHA": "abc123"},
)


def test_release_job_runs_the_image_with_the_command_and_env_from_its_secret():
    account, secret, job = oneoff_objects(RUN)
    for obj in (account, secret, job):
        kubernetes_validate.validate(obj, "1.36.0", strict=True)
    assert job["metadata"]["name"] == "release-42" and job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == DIGEST
    assert container["command"] == ["sh", "-c"] and container["args"] == [RUN.command]
    assert container["envFrom"] == [{"secretRef": {"name": "release-42-env"}}]
    assert secret["metadata"]["name"] == "release-42-env"
    assert base64.b64decode(secret["data"]["DATABASE_URL"]).decode().endswith(f"{PASSWORD}@db/shop")
    assert PASSWORD not in json.dumps(job)
    assert pod["serviceAccountName"] == "production" and account["metadata"]["name"] == "production"


def test_release_pod_is_not_selected_by_the_environments_service():
    _, _, job = oneoff_objects(RUN)
    pod_labels = job["spec"]["template"]["metadata"]["labels"]
    objects = render(Workload(RUN.site, RUN.plan, DIGEST, RUN.env), STYLE)
    service = next(o for o in objects if o["kind"] == "Service")
    selector = service["spec"]["selector"]
    assert not all(pod_labels.get(k) == v for k, v in selector.items())
    # the Job itself is the environment's, so teardown removes it with the rest
    assert job["metadata"]["labels"]["autostack.dev/environment"] == "production"


def test_the_service_account_is_the_one_the_release_applies():
    account, _, _ = oneoff_objects(RUN)
    rendered = next(
        o for o in render(Workload(RUN.site, RUN.plan, DIGEST), STYLE) if o["kind"] == "ServiceAccount"
    )
    assert account == rendered
