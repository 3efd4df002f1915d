"""Unguessable tokens and keys. Keys are returned once and stored only as SHA-256."""

import hashlib
import hmac
import secrets

TOKEN_BYTES = 18  # 144 bits, 24 URL-safe characters
KEY_BYTES = 24  # 192 bits, 32 URL-safe characters
MAX_KEY_LENGTH = 128


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def key_matches(key: str, stored_hash: bytes) -> bool:
    """Whether ``key`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(key_hash(key), stored_hash)
