"""ECR repositories and per-build push credentials against moto (no AWS account, no network).

moto does not evaluate session policies, so what a build may do is asserted on the policy
document STS received, written out here in full; that the Job gets the scoped session's token
is asserted on the key that signed the token request.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.sts.models import sts_backends

from deployer.targets.base import Site, TargetError
from deployer.targets.kubernetes.buildjob import BuildSpec, build_objects
from deployer.targets.kubernetes.ecr import Registry
from deployer.targets.kubernetes.pushscope import session_name
from tests.kubernetes.conftest import Signed

REGION, ACCOUNT = "eu-west-1", "123456789012"
BUILDER = f"arn:aws:iam::{ACCOUNT}:role/autostack-builder"
ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/autostack"
PUSH = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
]
READ = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
LOGIN = {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}


@pytest.fixture(autouse=True)
def aws(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


@pytest.fixture
def signed():
    return Signed()


def _registry(signed: Signed | None = None, **changes) -> Registry:
    ecr = boto3.client("ecr", region_name=REGION)
    options = {"sts": boto3.client("sts", region_name=REGION), "builder_role": BUILDER, **changes}
    if signed is not None:
        signed.watch(ecr)
        options["ecr_for"] = signed.client
    return Registry(ecr, **options)


def _own_key() -> str:
    """The access key AutoStack's own clients sign with (moto's, from the default chain)."""
    return boto3.session.Session().get_credentials().access_key


def _assumed():
    """Every AssumeRole STS answered, oldest first."""
    return sts_backends[ACCOUNT]["aws"].assumed_roles


def test_repositories_created_once_with_scan_immutability_and_lifecycle():
    registry = _registry(keep=5)
    repos = registry.ensure("shop")
    assert registry.ensure("shop") == repos
    assert repos.images.uri == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/autostack/shop"
    assert repos.cache.arn == f"{ARN}/shop/cache"
    assert not repos.untrusted
    ecr = registry.ecr
    found = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
    assert set(found) == {"autostack/shop", "autostack/shop/cache"}
    assert found["autostack/shop"]["imageTagMutability"] == "IMMUTABLE"
    assert found["autostack/shop"]["imageScanningConfiguration"] == {"scanOnPush": True}
    assert found["autostack/shop/cache"]["imageTagMutability"] == "MUTABLE"
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName="autostack/shop")["lifecyclePolicyText"])
    kept = {
        r["selection"].get("tagPrefixList", ["untagged"])[0]: r["selection"]["countNumber"]
        for r in policy["rules"]
    }
    assert kept == {"production-": 5, "branch-": 15, "pr-": 25, "untagged": 1}


def test_fork_build_gets_repositories_of_its_own():
    registry = _registry()
    repos = registry.ensure("shop", untrusted=True)
    assert (repos.images.name, repos.cache.name) == (
        "autostack/shop/untrusted",
        "autostack/shop/untrusted/cache",
    )
    assert repos.read_cache is not None and repos.read_cache.name == "autostack/shop/cache"
    assert repos.production_cache == repos.read_cache
    found = {r["repositoryName"]: r for r in registry.ecr.describe_repositories()["repositories"]}
    assert found["autostack/shop/untrusted"]["imageTagMutability"] == "IMMUTABLE"
    assert found["autostack/shop/untrusted/cache"]["imageTagMutability"] == "MUTABLE"
    assert registry.ecr.get_lifecycle_policy(repositoryName="autostack/shop/untrusted")["lifecyclePolicyText"]


def test_trusted_build_session_may_push_to_its_own_project_only():
    registry = _registry(session_seconds=900)
    registry.ensure("blog")
    registry.push_credential(registry.ensure("shop"), "shop", 42)
    (session,) = _assumed()
    assert (session.role_arn, session.session_name) == (BUILDER, "autostack-shop-42")
    assert (session.expiration - session.expiration.now()).total_seconds() == pytest.approx(900, abs=5)
    assert json.loads(session.policy) == {
        "Version": "2012-10-17",
        "Statement": [
            LOGIN,
            {
                "Sid": "PushThisBuild",
                "Effect": "Allow",
                "Action": PUSH,
                "Resource": [f"{ARN}/shop", f"{ARN}/shop/cache"],
            },
        ],
    }


def test_fork_build_session_cannot_write_the_trusted_cache_or_images():
    registry = _registry()
    registry.push_credential(registry.ensure("shop", untrusted=True), "shop", 43)
    policy = json.loads(_assumed()[-1].policy)
    assert policy["Statement"] == [
        LOGIN,
        {
            "Sid": "PushThisBuild",
            "Effect": "Allow",
            "Action": PUSH,
            "Resource": [f"{ARN}/shop/untrusted", f"{ARN}/shop/untrusted/cache"],
        },
        {"Sid": "ReadTrustedCache", "Effect": "Allow", "Action": READ, "Resource": [f"{ARN}/shop/cache"]},
    ]
    writes = {"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"}
    writable = {r for s in policy["Statement"] if writes & set(s["Action"]) for r in s["Resource"]}
    assert writable.isdisjoint({f"{ARN}/shop", f"{ARN}/shop/cache"})


def test_build_secret_holds_the_scoped_sessions_token_not_autostacks(signed):
    registry = _registry(signed)
    repos = registry.ensure("shop")
    credential = registry.push_credential(repos, "shop", 42)
    assert credential.scoped
    (session,) = _assumed()
    # one token request, signed with the session's key and not with AutoStack's own
    assert signed.keys == [session.access_key_id] and session.access_key_id != _own_key()
    (token,) = signed.tokens
    spec = BuildSpec(
        site=Site("shop", "production", 42),
        namespace="autostack-shop",
        image_repo=repos.images.uri,
        cache_repo=repos.cache.uri,
        source_url="https://sources.invalid/shop/42.tar.gz",
        docker_config=credential.docker_config,
    )
    secret, job = build_objects(spec)
    mounted = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert mounted == {"auths": {f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com": {"auth": token}}}
    pod = job["spec"]["template"]["spec"]
    secrets = [v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v]
    assert secrets == [secret["metadata"]["name"]] == ["build-42-registry"]
    assert not any("envFrom" in c or "valueFrom" in str(c.get("env")) for c in pod["containers"])


def test_fork_build_without_a_builder_role_is_refused(signed):
    registry = _registry(signed, builder_role=None)
    with pytest.raises(TargetError, match="a fork's build on the kubernetes target needs BUILD_ROLE_ARN"):
        registry.push_credential(registry.ensure("shop", untrusted=True), "shop", 43)
    assert signed.keys == []


def test_trusted_build_without_a_builder_role_is_marked_unscoped(signed):
    registry = _registry(signed, builder_role=None)
    credential = registry.push_credential(registry.ensure("shop"), "shop", 42)
    assert not credential.scoped
    assert signed.keys == [_own_key()] and _assumed() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"session_seconds": 899}, "a build credential lasts 900-3600 seconds, not 899"),
        ({"session_seconds": 3601}, "a build credential lasts 900-3600 seconds, not 3601"),
        ({"sts": None}, "a builder role needs an STS client"),
    ],
)
def test_bad_credential_options_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        _registry(**changes)


@pytest.mark.parametrize(
    ("project", "deployment_id", "expected"),
    [
        ("shop", 42, "autostack-shop-42"),
        ("a" * 63, 123456, "autostack-" + "a" * 47 + "-123456"),
    ],
)
def test_session_names_fit_sts(project, deployment_id, expected):
    assert session_name(project, deployment_id) == expected
    assert len(expected) <= 64


def test_destroyed_environment_images_forgotten_in_both_image_repositories():
    registry = _registry()
    registry.ensure("shop")
    registry.ensure("shop", untrusted=True)
    for repo, tag in [
        ("autostack/shop", "pr-7-1"),
        ("autostack/shop", "production-3"),
        ("autostack/shop/untrusted", "pr-7-2"),
        ("autostack/shop/untrusted", "pr-8-4"),
    ]:
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": "sha256:" + tag[-1] * 64},
            "layers": [],
        }
        registry.ecr.put_image(repositoryName=repo, imageManifest=json.dumps(manifest), imageTag=tag)
    assert registry.forget_environment("shop", "pr-7") == 2
    left = {
        repo: [i["imageTag"] for i in registry.ecr.list_images(repositoryName=repo)["imageIds"]]
        for repo in ("autostack/shop", "autostack/shop/untrusted")
    }
    assert left == {"autostack/shop": ["production-3"], "autostack/shop/untrusted": ["pr-8-4"]}
    assert registry.forget_environment("gone", "pr-1") == 0


DOCS = Path(__file__).resolve().parents[2] / "docs"


def _documented_policies() -> list[dict]:
    """The JSON policies docs/eks.md shows: the builder role's trust, then its permissions."""
    return [
        json.loads(block.split("```", 1)[0]) for block in (DOCS / "eks.md").read_text().split("```json\n")[1:]
    ]


def _actions(policy: dict) -> set[str]:
    return {
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }


def test_documented_builder_role_allows_what_every_build_session_asks_for():
    trust, permissions = _documented_policies()
    assert _actions(trust) == {"sts:AssumeRole"}
    registry = _registry()
    for untrusted in (False, True):
        assert _actions(registry.ensure("shop", untrusted=untrusted).session_policy()) <= _actions(
            permissions
        )
    own = _actions(json.loads((DOCS / "iam-policy.json").read_text()))
    assert "sts:AssumeRole" in own and own.isdisjoint({*PUSH, "ecr:GetAuthorizationToken"})
