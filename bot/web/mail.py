"""Invitation email through Amazon SES (boto3 stays in this adapter)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.aws_errors import aws_failure


class SesMailer:
    """Sends plain-text mail from `sender` through SES in `region`."""

    def __init__(self, region: str, sender: str, client: Any = None) -> None:
        self.sender = sender
        if client is None:
            # boto3 costs ~25 MB of memory; only a server that sends mail loads it
            import boto3

            client = boto3.client("ses", region_name=region)
        self._client = client

    async def send(self, to: str, subject: str, body: str) -> None:
        """Send one message (the SDK blocks, so it runs in a thread)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            await asyncio.to_thread(
                self._client.send_email,
                Source=self.sender,
                Destination={"ToAddresses": [to]},
                Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": body}}},
            )
        except (BotoCoreError, ClientError) as exc:
            raise aws_failure(exc, f"sending the invitation to {to} through SES failed") from exc
