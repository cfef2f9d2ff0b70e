"""ECR edges of the kubernetes target: each project's repositories, and per-build push credentials.

A build Job runs the repository's Dockerfile, so whatever credential it holds, that code holds.
It therefore never gets AutoStack's own: AutoStack assumes the builder role with a session
policy naming only the build's repositories (deployer/targets/kubernetes/pushscope.py) and hands
the Job an ECR token made with that session.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions

from deployer.targets.base import TargetError
from deployer.targets.kubernetes.aws import aws_error
from deployer.targets.kubernetes.pushscope import (
    NO_BUILDER_ROLE,
    BuildRepositories,
    PushCredential,
    Repository,
    session_name,
)
from store.environment_names import BRANCH_PREFIX, PREVIEW_PREFIX, PRODUCTION

log = logging.getLogger("autostack.kubernetes")
# STS's floor; the ceiling is an hour because AutoStack's own IRSA credential is already an
# assumed role, and AWS caps chained role sessions at one hour whatever the role allows.
SESSION_SECONDS = (900, 3600)


def lifecycle_policy(keep: int) -> dict[str, Any]:
    """Keep the last `keep` production and branch images, fewer previews; drop untagged ones.

    ECR rules match tag prefixes, not each environment, so previews share one budget.
    """
    rules: list[dict[str, Any]] = [
        {
            "rulePriority": priority,
            "description": f"keep the last {count} {prefix}* images",
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": [prefix],
                "countType": "imageCountMoreThan",
                "countNumber": count,
            },
            "action": {"type": "expire"},
        }
        for priority, (prefix, count) in enumerate(
            [(f"{PRODUCTION}-", keep), (BRANCH_PREFIX, keep * 3), (PREVIEW_PREFIX, keep * 5)], start=1
        )
    ]
    rules.append(
        {
            "rulePriority": len(rules) + 1,
            "description": "expire untagged layers a day after they lost their tag",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 1,
            },
            "action": {"type": "expire"},
        }
    )
    return {"rules": rules}


class Registry:
    """ECR repositories of AutoStack's projects, and the push credential each build gets."""

    def __init__(
        self,
        ecr: Any,
        prefix: str = "autostack",
        keep: int = 10,
        *,
        sts: Any = None,
        builder_role: str | None = None,
        session_seconds: int = 2700,
        ecr_for: Callable[[dict[str, Any], str, str | None], Any] | None = None,
    ) -> None:
        low, high = SESSION_SECONDS
        if not low <= session_seconds <= high:
            raise ValueError(f"a build credential lasts {low}-{high} seconds, not {session_seconds}")
        if builder_role and sts is None:
            raise ValueError("a builder role needs an STS client to assume it")
        self.ecr, self.prefix, self.keep = ecr, prefix, keep
        self.sts, self.builder_role, self.session_seconds = sts, builder_role, session_seconds
        self.ecr_for = ecr_for  # how a client is made from a build's session; ecr_with unless given

    def ensure(self, project: str, *, untrusted: bool = False) -> BuildRepositories:
        """Create the repositories a build of `project` uses if missing, and return them.

        Images get immutable tags, scan on push and the lifecycle policy; cache repositories are
        mutable because BuildKit rewrites `:<environment>` on every build. A fork's build gets
        `<project>/untrusted` and `<project>/untrusted/cache`, and reads the trusted cache.
        """
        base = f"{self.prefix}/{project}"
        cache = self._repository(f"{base}/cache", immutable=False)
        if not untrusted:
            return BuildRepositories(self._images(base), cache)
        return BuildRepositories(
            self._images(f"{base}/untrusted"),
            self._repository(f"{base}/untrusted/cache", immutable=False),
            read_cache=cache,
        )

    def _images(self, name: str) -> Repository:
        found = self._repository(name, immutable=True)
        try:
            self.ecr.put_lifecycle_policy(
                repositoryName=name, lifecyclePolicyText=json.dumps(lifecycle_policy(self.keep))
            )
        except botocore.exceptions.ClientError as exc:
            raise aws_error(exc, f"setting the lifecycle policy of {name}") from exc
        return found

    def _repository(self, name: str, *, immutable: bool) -> Repository:
        try:
            found = self.ecr.create_repository(
                repositoryName=name,
                imageTagMutability="IMMUTABLE" if immutable else "MUTABLE",
                imageScanningConfiguration={"scanOnPush": immutable},
                tags=[{"Key": "managed-by", "Value": "autostack"}],
            )["repository"]
        except botocore.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] != "RepositoryAlreadyExistsException":
                raise aws_error(exc, f"creating ECR repository {name}") from exc
            found = self.ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        return Repository(name, str(found["repositoryUri"]), str(found["repositoryArn"]))

    def push_credential(self, repos: BuildRepositories, project: str, deployment_id: int) -> PushCredential:
        """An ECR token that can push only to `repos`, made with a session of the builder role.

        Without a builder role a fork's build is refused, and a trusted one gets AutoStack's own
        credential, marked unscoped so that the deployment log says so.
        """
        if not self.builder_role:
            if repos.untrusted:
                raise TargetError(
                    "a fork's build on the kubernetes target needs BUILD_ROLE_ARN, so that it gets a "
                    "push credential for its own repositories only (docs/eks.md §2); not built"
                )
            log.warning("deployment %s of %s: %s", deployment_id, project, NO_BUILDER_ROLE)
            return PushCredential(_docker_config(self.ecr), scoped=False)
        try:
            session = self.sts.assume_role(
                RoleArn=self.builder_role,
                RoleSessionName=session_name(project, deployment_id),
                Policy=json.dumps(repos.session_policy(), separators=(",", ":")),
                DurationSeconds=self.session_seconds,
            )["Credentials"]
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise aws_error(exc, f"assuming the builder role {self.builder_role}") from exc
        scoped = (self.ecr_for or ecr_with)(session, self.ecr.meta.region_name, self.ecr.meta.endpoint_url)
        return PushCredential(_docker_config(scoped), scoped=True)

    def forget_environment(self, project: str, environment: str) -> int:
        """Delete a destroyed environment's image tags now rather than at the next lifecycle run."""
        base = f"{self.prefix}/{project}"
        return sum(self._forget(name, environment) for name in (base, f"{base}/untrusted"))

    def _forget(self, name: str, environment: str) -> int:
        try:
            pages = self.ecr.get_paginator("list_images").paginate(
                repositoryName=name, filter={"tagStatus": "TAGGED"}
            )
            ids = [
                i for page in pages for i in page["imageIds"] if i["imageTag"].startswith(f"{environment}-")
            ]
            for start in range(0, len(ids), 100):
                self.ecr.batch_delete_image(repositoryName=name, imageIds=ids[start : start + 100])
        except botocore.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
                return 0
            raise aws_error(exc, f"deleting the images of {environment} in {name}") from exc
        return len(ids)


def ecr_with(credentials: dict[str, Any], region: str, endpoint_url: str | None = None) -> Any:
    """An ECR client signing with STS `credentials` (AccessKeyId, SecretAccessKey, SessionToken)."""
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    ).client("ecr", endpoint_url=endpoint_url)


def _docker_config(ecr: Any) -> dict[str, Any]:
    try:
        data = ecr.get_authorization_token()["authorizationData"][0]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise aws_error(exc, "getting an ECR push credential") from exc
    host = data["proxyEndpoint"].removeprefix("https://")
    return {"auths": {host: {"auth": data["authorizationToken"]}}}


def ecr_registry(
    region: str,
    prefix: str,
    keep: int,
    builder_role: str | None = None,
    session_seconds: int = 2700,
) -> Registry:
    """The ECR registry of the account the default credential chain names; builds push through
    sessions of `builder_role` when one is given."""
    session = boto3.session.Session(region_name=region)
    sts = session.client("sts", endpoint_url=f"https://sts.{region}.amazonaws.com")
    return Registry(
        session.client("ecr"),
        prefix,
        keep,
        sts=sts,
        builder_role=builder_role,
        session_seconds=session_seconds,
    )
