"""AWS edges of the kubernetes target: EKS access and S3 sources (ECR is in ecr.py)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions

from deployer.targets.kubernetes.errors import ClusterError, ClusterTemporaryError
from store.errors import is_aws_outage

TOKEN_PREFIX = "k8s-aws-v1."
_CLUSTER_HEADER = "x-k8s-aws-id"
# EKS accepts a token for 15 minutes after signing; `aws eks get-token` declares 14 so that a
# token is never sent in its last minute. We do the same.
TOKEN_LIFETIME = 14 * 60


def aws_error(exc: Exception, doing: str) -> ClusterError | ClusterTemporaryError:
    """A boto3 failure as a ClusterError naming what was being done; throttling, AWS's own
    trouble and a connection that failed are temporary (store.errors.is_aws_outage)."""
    code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")
    if is_aws_outage(exc):
        return ClusterTemporaryError(f"{doing}: {code or exc}")
    return ClusterError(f"{doing}: {code or type(exc).__name__}: {exc}")


def presigned_token(sts: Any, cluster_name: str) -> str:
    """A bearer token for EKS, made exactly as `aws eks get-token` makes it.

    A presigned STS GetCallerIdentity URL whose signature covers the `x-k8s-aws-id` header
    naming the cluster, base64url-encoded without padding and prefixed `k8s-aws-v1.`.
    """
    events = sts.meta.events

    def carry(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_CLUSTER_HEADER] = params.pop(_CLUSTER_HEADER)

    def sign_header(request: Any, **_: Any) -> None:
        request.headers[_CLUSTER_HEADER] = request.context[_CLUSTER_HEADER]

    events.register("provide-client-params.sts.GetCallerIdentity", carry, unique_id="autostack-eks-id")
    events.register("before-sign.sts.GetCallerIdentity", sign_header, unique_id="autostack-eks-header")
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={_CLUSTER_HEADER: cluster_name}, ExpiresIn=60, HttpMethod="GET"
    )
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class EksToken:
    """The current EKS bearer token, made again before the old one expires."""

    def __init__(self, sts: Any, cluster_name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.sts, self.cluster_name, self.clock = sts, cluster_name, clock
        self._token, self._made = "", float("-inf")

    def __call__(self) -> str:
        """A token with at least a minute of validity left."""
        if self.clock() - self._made >= TOKEN_LIFETIME:
            self._token, self._made = presigned_token(self.sts, self.cluster_name), self.clock()
        return self._token


@dataclass(frozen=True, slots=True)
class EksCluster:
    """Where an EKS cluster's API answers and the CA that signs it."""

    endpoint: str
    ca_pem: bytes


def describe_cluster(eks: Any, name: str) -> EksCluster:
    """The endpoint and CA of an EKS cluster, from eks:DescribeCluster."""
    try:
        cluster = eks.describe_cluster(name=name)["cluster"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise aws_error(exc, f"describing EKS cluster {name}") from exc
    return EksCluster(cluster["endpoint"], base64.b64decode(cluster["certificateAuthority"]["data"]))


def eks_clients(region: str) -> tuple[Any, Any]:
    """(sts, eks) clients from the default credential chain (IRSA on EKS), regional STS."""
    session = boto3.session.Session(region_name=region)
    sts = session.client("sts", endpoint_url=f"https://sts.{region}.amazonaws.com")
    return sts, session.client("eks")


class S3Sources:
    """Source tarballs for build Jobs in an S3 bucket, fetched by the Job through a presigned URL.

    S3 rather than a ConfigMap: ConfigMaps stop at 1 MiB, and a presigned URL lets the build pod
    fetch its source without any AWS credentials of its own.
    """

    def __init__(self, s3: Any, bucket: str, prefix: str = "sources") -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix

    def put(self, project: str, deployment_id: int, tarball: bytes) -> str:
        """Upload the tarball; return a GET URL valid for an hour."""
        key = f"{self.prefix}/{project}/{deployment_id}.tar.gz"
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=tarball)
            return str(
                self.s3.generate_presigned_url(
                    "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=3600
                )
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise aws_error(
                exc, f"uploading the source of deployment {deployment_id} to s3://{self.bucket}"
            ) from exc


def s3_sources(region: str, bucket: str) -> S3Sources:
    """Build sources in `bucket`, with the default credential chain."""
    return S3Sources(boto3.session.Session(region_name=region).client("s3"), bucket)
