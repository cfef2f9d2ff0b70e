"""The `autostack rotate-key` command's body (bot/cli.py calls it)."""

from __future__ import annotations

from bot.settings import Settings, require_secret_keys, with_local_secrets
from store.db import create_engine, sessionmaker
from store.encryption import KeyRing
from store.migrate import upgrade
from store.rotation import rotate_keys


async def rotate_key(settings: Settings) -> str:
    """Re-encrypt everything under the first SECRET_KEY; say what was done and what is next."""
    settings = with_local_secrets(settings)
    keyring = KeyRing(require_secret_keys(settings))
    if settings.embedded_database:
        upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        result = await rotate_keys(sessionmaker(engine), keyring)
    finally:
        await engine.dispose()
    return (
        f"re-encrypted {result.rotated} secrets under key {keyring.primary.id} "
        f"({result.current} already were); the other keys in SECRET_KEY can now be removed"
    )
