"""AES-256-GCM encryption of secrets at rest, under a ring of keys so keys can be rotated.

The first key encrypts; every key decrypts. Each ciphertext records the id of its key, and is
bound to where it is stored (associated data), so a value copied to another row won't decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class DecryptionError(Exception):
    """A ciphertext could not be decrypted: unknown key id, wrong key, or tampered data."""


def _key_material(secret: str) -> bytes:
    """32 key bytes: the secret itself if it is 32 bytes of base64, else derived with HKDF."""
    try:
        raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
        if len(raw) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"autostack", info=b"env-vars").derive(
        secret.encode()
    )


@dataclass(frozen=True)
class Key:
    """One AES-256 key and its public id."""

    id: str
    material: bytes

    @classmethod
    def from_secret(cls, secret: str) -> Key:
        material = _key_material(secret)
        return cls(hashlib.sha256(material).hexdigest()[:16], material)


class KeyRing:
    """Encrypts with the newest key, decrypts with any."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        if not secrets:
            raise ValueError("a key ring needs at least one key (SECRET_KEY)")
        self.keys = [Key.from_secret(secret) for secret in secrets]
        self._by_id = {key.id: key for key in self.keys}

    @property
    def primary(self) -> Key:
        """The key new ciphertexts are made with."""
        return self.keys[0]

    def encrypt(self, plaintext: str, context: str) -> tuple[str, bytes]:
        """(key id, nonce + ciphertext) of `plaintext`, bound to `context`."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.primary.material).encrypt(nonce, plaintext.encode(), context.encode())
        return self.primary.id, nonce + sealed

    def decrypt(self, key_id: str, blob: bytes, context: str) -> str:
        """The plaintext, or DecryptionError naming the key id (never the value)."""
        key = self._by_id.get(key_id)
        if key is None:
            raise DecryptionError(f"no key with id {key_id} in SECRET_KEY; add the old key back to read it")
        try:
            plain = AESGCM(key.material).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise DecryptionError(f"ciphertext under key {key_id} does not authenticate") from None
        return plain.decode()

    def needs_rotation(self, key_id: str) -> bool:
        """True when a ciphertext is not under the primary key."""
        return key_id != self.primary.id


def env_var_context(project_id: int, key: str, scope: str) -> str:
    """The associated data binding an env var's ciphertext to its row."""
    return f"env:{project_id}:{scope}:{key}"
