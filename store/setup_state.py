"""The credentials the setup page registered (the GitHub App and its OAuth client), stored
encrypted so a restart uses them without them ever being in the environment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select

from store.db import Sessions, Tx
from store.encryption import KeyRing
from store.models import StoredSecret
from store.rotation import stored_secret_context


async def stored_credentials(sessions: Sessions, keyring: KeyRing, names: Iterable[str]) -> dict[str, str]:
    """The stored credentials among `names`, decrypted, by name (a name never stored is absent)."""
    async with sessions() as session:
        rows = {row.name: row for row in (await session.scalars(select(StoredSecret))).all()}
    wanted = set(names)
    return {
        name: keyring.decrypt(row.key_id, row.ciphertext, stored_secret_context(name))
        for name, row in rows.items()
        if name in wanted
    }


async def store_credentials(tx: Tx, keyring: KeyRing, values: Mapping[str, str]) -> None:
    """Keep each credential encrypted under its name, replacing one stored before."""
    for name, value in values.items():
        key_id, blob = keyring.encrypt(value, stored_secret_context(name))
        row = await tx.get(StoredSecret, name)
        if row is None:
            tx.add(StoredSecret(name=name, key_id=key_id, ciphertext=blob))
        else:
            row.key_id, row.ciphertext = key_id, blob
