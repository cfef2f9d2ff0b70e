"""AWS failures in the error vocabulary: throttling, AWS's own trouble and a connection that
fails are temporary (retried); a refusal is permanent and shown with AWS's code. The errors
are botocore's own, built as botocore builds them from AWS's answers, and one met for real."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from bot.aws_errors import AWSPermanentError, AWSTemporaryError, aws_failure
from deployer.targets.kubernetes.aws import aws_error
from deployer.targets.kubernetes.errors import ClusterError, ClusterTemporaryError
from store.errors import is_temporary
from tests.aws_clients import unreachable


def answered(code: str, status: int, operation: str = "ChangeResourceRecordSets") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


@pytest.mark.parametrize(
    ("failure", "temporary"),
    [
        (answered("Throttling", 400), True),  # Route53, ELB
        (answered("ThrottlingException", 400), True),  # ECR, EKS
        (answered("SlowDown", 503, "PutObject"), True),  # S3
        (answered("PriorRequestNotComplete", 400), True),  # Route53: same record set in flight
        (answered("TooManyRequestsException", 429), True),
        (answered("SomethingNew", 429), True),  # by status alone
        (answered("InternalError", 500, "GetObject"), True),
        (answered("ServiceUnavailable", 503, "SendEmail"), True),
        (answered("AccessDenied", 403), False),
        (answered("NoSuchHostedZone", 404), False),
        (answered("InvalidChangeBatch", 400), False),
        (answered("MessageRejected", 400, "SendEmail"), False),
        (EndpointConnectionError(endpoint_url="https://route53.amazonaws.com/"), True),
        (ConnectTimeoutError(endpoint_url="https://s3.amazonaws.com/"), True),
        (ReadTimeoutError(endpoint_url="https://s3.amazonaws.com/"), True),
        (NoCredentialsError(), False),
        (ValueError("not AWS at all"), False),
    ],
)
def test_each_failure_is_the_kind_it_is_on_every_path(failure, temporary):
    assert is_temporary(failure) is temporary
    ours = aws_failure(failure, "doing it")
    assert isinstance(ours, AWSTemporaryError if temporary else AWSPermanentError)
    assert is_temporary(ours) is temporary
    cluster = aws_error(failure, "doing it")
    assert isinstance(cluster, ClusterTemporaryError if temporary else ClusterError)


def test_the_message_says_what_was_done_and_aws_code():
    failure = aws_failure(answered("AccessDenied", 403), "listing hosted zones in Route53 failed")
    assert str(failure).startswith("listing hosted zones in Route53 failed: AccessDenied: ")


def test_aws_out_of_reach_for_real_is_temporary():
    s3 = unreachable("s3", "eu-west-1")
    with pytest.raises(EndpointConnectionError) as raised:
        s3.list_buckets()
    assert isinstance(aws_failure(raised.value, "listing buckets"), AWSTemporaryError)
