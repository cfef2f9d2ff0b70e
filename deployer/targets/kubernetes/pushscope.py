"""What one build may do in ECR (pure): the repositories it writes and reads, as a session policy.

ECR permissions stop at the repository: IAM has no condition on image tags, so "a fork may not
write the production cache tag" can only be enforced by giving fork builds repositories of their
own and only read access to the trusted cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_BUILDER_ROLE = (
    "BUILD_ROLE_ARN is not set, so this build holds AutoStack's own ECR credential, which can "
    "push to every project's repositories (docs/eks.md §2)"
)
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
PUSH_ACTIONS = (
    *PULL_ACTIONS,
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)


@dataclass(frozen=True, slots=True)
class Repository:
    """One ECR repository: its name, its URI (for image references) and its ARN (for policies)."""

    name: str
    uri: str
    arn: str


@dataclass(frozen=True, slots=True)
class BuildRepositories:
    """Where one build pushes its image and exports its cache, and the cache it may only read.

    A trusted build writes the project's image and cache repositories; a fork's build writes the
    project's `untrusted` pair and reads the trusted cache (`read_cache`) without writing it.
    """

    images: Repository
    cache: Repository
    read_cache: Repository | None = None

    @property
    def untrusted(self) -> bool:
        """Whether these are a fork build's repositories."""
        return self.read_cache is not None

    @property
    def production_cache(self) -> Repository:
        """The repository whose `:production` tag seeds this build's cache."""
        return self.read_cache or self.cache

    def session_policy(self) -> dict[str, Any]:
        """The IAM session policy for this build: push to its own pair, read the trusted cache."""
        statements: list[dict[str, Any]] = [
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "PushThisBuild",
                "Effect": "Allow",
                "Action": list(PUSH_ACTIONS),
                "Resource": [self.images.arn, self.cache.arn],
            },
        ]
        if self.read_cache is not None:
            statements.append(
                {
                    "Sid": "ReadTrustedCache",
                    "Effect": "Allow",
                    "Action": list(PULL_ACTIONS),
                    "Resource": [self.read_cache.arn],
                }
            )
        return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True, slots=True)
class PushCredential:
    """What a build Job mounts: a `.dockerconfigjson`, and whether it is scoped to the build."""

    docker_config: dict[str, Any] = field(repr=False)
    scoped: bool


def session_name(project: str, deployment_id: int) -> str:
    """The STS session name, shown in CloudTrail: which project's which deployment pushed.

    STS allows 2-64 characters of `[\\w+=,.@-]`; project names are DNS labels, so only length
    needs care.
    """
    suffix = f"-{deployment_id}"
    return f"autostack-{project}"[: 64 - len(suffix)] + suffix
