"""Real boto3 clients for AWS failure tests: one whose endpoint refuses connections."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from tests.servers import free_port


def unreachable(service: str, region: str = "us-east-1") -> Any:
    """A client of `service` whose endpoint nothing listens on (AWS out of reach), trying once."""
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1),
    )
