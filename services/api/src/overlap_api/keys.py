"""Unguessable tokens and keys, and the checks of the keys a request presents. Keys are
returned once and stored only as SHA-256."""

import hashlib
import hmac
import secrets

from overlap_api.http.errors import Forbidden, KeyRequired

TOKEN_BYTES = 18  # 144 bits, 24 URL-safe characters
KEY_BYTES = 24  # 192 bits, 32 URL-safe characters
MAX_KEY_LENGTH = 128
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"  # what an event's link token may look like


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def key_matches(key: str, stored_hash: bytes) -> bool:
    """Whether ``key`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(key_hash(key), stored_hash)


def require_admin_key(admin_key_hash: bytes, admin_key: str | None) -> None:
    """401 without a key, 403 unless it is the key whose hash the event stores."""
    if not admin_key:
        raise KeyRequired("this action needs the event's X-Admin-Key header")
    if len(admin_key) > MAX_KEY_LENGTH or not key_matches(admin_key, admin_key_hash):
        raise Forbidden("X-Admin-Key is not the admin key of this event")


def participant_key_hash(participant_key: str | None) -> bytes:
    """The stored form of a participant key: 401 without one, 403 for one too long."""
    if not participant_key:
        raise KeyRequired("this action needs your X-Participant-Key header")
    if len(participant_key) > MAX_KEY_LENGTH:
        raise Forbidden("X-Participant-Key is not a key of this event")
    return key_hash(participant_key)
