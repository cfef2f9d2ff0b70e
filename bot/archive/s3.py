"""The S3 bucket old deployment logs and webhook payloads are archived to (boto3 stays in here)."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import botocore.exceptions

from bot.aws_errors import aws_failure


class S3Archive:
    """Objects in one bucket, written and read whole (each is one gzipped NDJSON file)."""

    def __init__(self, bucket: str, *, region: str | None, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self._client: Any = boto3.client("s3", region_name=region, endpoint_url=endpoint_url)

    async def put(self, key: str, body: bytes) -> None:
        """Write (or overwrite) one object."""
        await self._call(
            f"archiving to s3://{self.bucket}/{key}",
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType="application/gzip",
        )

    async def get(self, key: str) -> bytes:
        """Read one object back."""
        answer = await self._call(
            f"reading s3://{self.bucket}/{key}", self._client.get_object, Bucket=self.bucket, Key=key
        )
        return await asyncio.to_thread(answer["Body"].read)

    async def _call(self, doing: str, method: Any, **params: Any) -> Any:
        try:
            return await asyncio.to_thread(method, **params)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise aws_failure(exc, doing) from exc
