"""EKS tokens and cluster lookup against moto (no AWS account, no network); ECR is test_ecr.py."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from moto import mock_aws

from deployer.targets.kubernetes.aws import (
    TOKEN_LIFETIME,
    TOKEN_PREFIX,
    EksToken,
    describe_cluster,
    eks_clients,
    presigned_token,
)
from deployer.targets.kubernetes.errors import ClusterError

REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def aws(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def _decode(token: str) -> str:
    body = token.removeprefix(TOKEN_PREFIX)
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def test_token_is_a_presigned_get_caller_identity_url_bound_to_the_cluster():
    sts, _ = eks_clients(REGION)
    token = presigned_token(sts, "prod-cluster")
    assert token.startswith(TOKEN_PREFIX)
    assert "=" not in token
    url = urlparse(_decode(token))
    query = parse_qs(url.query)
    assert url.netloc == f"sts.{REGION}.amazonaws.com"
    assert query["Action"] == ["GetCallerIdentity"]
    assert query["X-Amz-Expires"] == ["60"]
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0].split(";")
    assert "x-k8s-aws-id" not in query  # a header, signed, never a query parameter


class _Counting:
    """An STS client that counts how often a token is signed."""

    def __init__(self, sts, made):
        self.meta, self._sts, self._made = sts.meta, sts, made

    def generate_presigned_url(self, *args, **kwargs):
        self._made.append(1)
        return self._sts.generate_presigned_url(*args, **kwargs)


def test_token_is_made_again_before_it_expires():
    sts, _ = eks_clients(REGION)
    now, made = [1000.0], []
    token = EksToken(_Counting(sts, made), "prod-cluster", clock=lambda: now[0])
    first = token()
    now[0] += TOKEN_LIFETIME - 1
    assert token() == first
    assert len(made) == 1
    now[0] += 1
    assert token().startswith(TOKEN_PREFIX)
    assert len(made) == 2


def test_describe_cluster_gives_endpoint_and_ca():
    eks = boto3.client("eks", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="eks", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    eks.create_cluster(name="prod", roleArn=role, resourcesVpcConfig={"subnetIds": []})
    cluster = describe_cluster(eks, "prod")
    assert cluster.endpoint.startswith("https://")
    assert cluster.ca_pem


def test_describe_missing_cluster_is_permanent():
    with pytest.raises(ClusterError, match="describing EKS cluster nope: ResourceNotFoundException"):
        describe_cluster(boto3.client("eks", region_name=REGION), "nope")
