"""`autostack rotate-key`: re-encrypt every stored secret under the primary (first) SECRET_KEY,
after which the older keys can be removed from SECRET_KEY."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.encryption import KeyRing, env_var_context
from store.models import EnvVar, StoredSecret


def stored_secret_context(name: str) -> str:
    """The associated data binding a stored credential's ciphertext to its name."""
    return f"stored:{name}"


@dataclass(frozen=True)
class Rotation:
    """How many ciphertexts were re-encrypted and how many were already under the primary key."""

    rotated: int
    current: int


async def rotate_keys(sessions: async_sessionmaker[AsyncSession], keyring: KeyRing) -> Rotation:
    """Re-encrypt env vars and stored credentials not under the primary key, in one transaction."""
    rotated = current = 0
    async with sessions.begin() as session:
        for var in (await session.scalars(select(EnvVar))).all():
            if not keyring.needs_rotation(var.key_id):
                current += 1
                continue
            context = env_var_context(var.project_id, var.key, var.scope)
            var.key_id, var.ciphertext = keyring.encrypt(
                keyring.decrypt(var.key_id, var.ciphertext, context), context
            )
            rotated += 1
        for secret in (await session.scalars(select(StoredSecret))).all():
            if not keyring.needs_rotation(secret.key_id):
                current += 1
                continue
            context = stored_secret_context(secret.name)
            plain = keyring.decrypt(secret.key_id, secret.ciphertext, context)
            secret.key_id, secret.ciphertext = keyring.encrypt(plain, context)
            rotated += 1
    return Rotation(rotated, current)
