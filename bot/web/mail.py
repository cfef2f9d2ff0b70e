"""Invitation email through Amazon SES (boto3 stays in this adapter)."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError


class MailError(Exception):
    """SES refused or could not be reached; the message says which address and why."""


class SesMailer:
    """Sends plain-text mail from `sender` through SES in `region`."""

    def __init__(self, region: str, sender: str, client: Any = None) -> None:
        self.sender = sender
        self._client = client or boto3.client("ses", region_name=region)

    async def send(self, to: str, subject: str, body: str) -> None:
        """Send one message (the SDK blocks, so it runs in a thread)."""
        try:
            await asyncio.to_thread(
                self._client.send_email,
                Source=self.sender,
                Destination={"ToAddresses": [to]},
                Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": body}}},
            )
        except (BotoCoreError, ClientError) as exc:
            raise MailError(f"sending the invitation to {to} through SES failed: {exc}") from exc
