"""The AWS adapters' errors (Route53, ELB, SES, S3): one kind callers catch, split into the
temporary and permanent errors of the vocabulary (store.errors), so throttling or an outage
is tried again and a refusal is shown as it is."""

from __future__ import annotations

from store.errors import PermanentError, TemporaryError, is_aws_outage


class AWSError(Exception):
    """An AWS call failed; the message says what was being done and AWS's error code."""


class AWSTemporaryError(AWSError, TemporaryError):
    """AWS throttled the call, failed on its side, or could not be reached."""


class AWSPermanentError(AWSError, PermanentError):
    """AWS refused the call (denied, invalid, not found): trying again will not help."""


def aws_failure(exc: Exception, doing: str) -> AWSError:
    """Our error for a botocore failure met while `doing`, with AWS's error code when it gave one."""
    code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
    message = f"{doing}: {code + ': ' if code else ''}{exc}"
    return AWSTemporaryError(message) if is_aws_outage(exc) else AWSPermanentError(message)
