"""Tokens and keys: >= 128 random bits, stored as SHA-256, compared in constant time; and the
services' secrets stay out of settings errors and log lines."""

import base64
import hashlib
import logging
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from overlap_api import keys
from overlap_api.http.errors import Forbidden, KeyRequired
from overlap_api.keys import (
    KEY_BYTES,
    TOKEN_BYTES,
    key_hash,
    key_matches,
    new_key,
    new_token,
    participant_key_hash,
)
from overlap_api.settings import Settings
from overlap_api.writes.store import Locked, require_admin
from overlap_shared.logs import MASK, RedactSecrets
from overlap_shared.models import Event, Participant
from overlap_shared.settings import PusherSettings
from pydantic import ValidationError
from sqlalchemy import LargeBinary

ROOT = Path(__file__).resolve().parents[3]
API_SRC = ROOT / "services/api/src/overlap_api"
URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")
SAMPLES = 5_000
GENERATORS: list[tuple[str, Callable[[], str], int]] = [
    ("token", new_token, TOKEN_BYTES),
    ("key", new_key, KEY_BYTES),
]


def _decode(value: str) -> bytes:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == value  # canonical
    return raw


@pytest.mark.parametrize(("name", "generate", "nbytes"), GENERATORS)
def test_generators_yield_at_least_128_random_bits(
    name: str, generate: Callable[[], str], nbytes: int
) -> None:
    assert nbytes * 8 >= 128
    values = [generate() for _ in range(SAMPLES)]
    assert len(set(values)) == SAMPLES, f"{name}s repeat"
    decoded = []
    for value in values:
        assert URLSAFE.match(value), value  # URL-safe, no padding
        assert len(value) == -(-nbytes * 4 // 3)
        raw = _decode(value)
        assert len(raw) == nbytes and len(raw) * 8 >= 128
        decoded.append(raw)
    # Every byte position varies (no constant prefix, counter or timestamp in the value)...
    for position in range(nbytes):
        assert len({raw[position] for raw in decoded}) > 200, f"{name} byte {position}"
    # ...and every bit is a fair coin: 5,000 samples put each within ~5.7 sigma of half.
    for bit in range(nbytes * 8):
        ones = sum(raw[bit // 8] >> (bit % 8) & 1 for raw in decoded)
        assert abs(ones - SAMPLES / 2) < 200, f"{name} bit {bit}: {ones}"
    # The 64-symbol alphabet is used evenly (a hex or shortened alphabet would fail).
    counts = Counter("".join(v[:-1] for v in values))  # a last symbol may carry pad bits
    assert len(counts) == 64
    expected = sum(counts.values()) / 64
    assert all(abs(c - expected) < 0.15 * expected for c in counts.values())


@pytest.mark.parametrize(("name", "generate", "nbytes"), GENERATORS)
def test_generators_use_the_os_random_source(
    name: str, generate: Callable[[], str], nbytes: int
) -> None:
    random.seed(1234)
    first = generate()
    random.seed(1234)
    assert generate() != first, f"{name} follows the seeded `random` module"


def test_keys_py_holds_every_generator_of_the_api() -> None:
    """No other module of the API mints tokens or keys (with a weaker source or length)."""
    minting = re.compile(r"secrets\.|token_urlsafe|token_hex|token_bytes|\brandom\.|urandom|uuid4")
    offenders = []
    for path in API_SRC.rglob("*.py"):
        if path.name == "keys.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if minting.search(line) and "uuid.uuid4()" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, offenders
    services = (API_SRC / "events/service.py").read_text()
    participants = (API_SRC / "participants/service.py").read_text()
    assert "new_key()" in services and "new_token()" in services
    assert "new_key()" in participants


def test_uuid4_is_only_used_for_row_ids() -> None:
    """uuid4 (122 random bits) is fine for ids, never for a token or key."""
    for path in API_SRC.rglob("*.py"):
        for line in path.read_text().splitlines():
            if "uuid.uuid4()" in line:
                assert re.search(r"\b(pid|id|message_id|event_id)\b.*uuid\.uuid4\(\)", line), line


def test_key_hash_is_sha256_of_the_utf8_key() -> None:
    assert key_hash("abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    for _ in range(100):
        key = new_key()
        digest = key_hash(key)
        assert digest == hashlib.sha256(key.encode()).digest()
        assert len(digest) == 32 and key.encode() not in digest
    assert key_hash("é") == hashlib.sha256("é".encode()).digest()
    # The columns hold exactly a digest: 32 bytes, no room for a raw key next to it.
    assert cast(LargeBinary, Event.__table__.c.admin_key_hash.type).length == 32
    assert cast(LargeBinary, Participant.__table__.c.key_hash.type).length == 32


def test_key_matches_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = keys.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys.hmac, "compare_digest", spy)
    key = new_key()
    stored = key_hash(key)
    assert key_matches(key, stored)
    assert not key_matches(new_key(), stored)
    assert not key_matches(key[:-1], stored)
    assert calls[0] == (stored, stored) and len(calls) == 3


def _locked(admin_key: str) -> Locked:
    return Locked(event=cast(Any, None), admin_key_hash=key_hash(admin_key))


def test_require_admin_checks_the_hash_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real = keys.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append(a)
        return real(a, b)

    monkeypatch.setattr(keys.hmac, "compare_digest", spy)
    admin_key = new_key()
    locked = _locked(admin_key)
    require_admin(locked, admin_key)
    assert calls == [key_hash(admin_key)]
    for wrong in (new_key(), admin_key + "x", admin_key.upper(), "x" * 129):
        with pytest.raises(Forbidden) as raised:
            require_admin(locked, wrong)
        assert wrong not in str(raised.value) and admin_key not in str(raised.value)
    with pytest.raises(KeyRequired):
        require_admin(locked, None)
    assert len(calls) == 4  # the over-long key was refused before hashing


def test_participant_keys_are_looked_up_by_their_hash() -> None:
    """Participant lookups compare SHA-256 digests in the database (an index probe on a
    hash the caller cannot steer), so no raw key is ever sent to the database."""
    key = new_key()
    assert participant_key_hash(key) == hashlib.sha256(key.encode()).digest()
    with pytest.raises(KeyRequired):
        participant_key_hash("")
    with pytest.raises(Forbidden):
        participant_key_hash("k" * 129)


def test_settings_errors_and_reprs_never_show_secret_values() -> None:
    jwt_secret, operator_key = "jwt-" + new_key(), "short"
    with pytest.raises(ValidationError) as raised:
        Settings(environment="production", jwt_secret=jwt_secret, operator_key=operator_key)
    message = str(raised.value)
    assert "OPERATOR_KEY" in message  # the error names the setting...
    assert jwt_secret[-20:] not in message and "'short'" not in message  # ...not values
    pusher_secret = "tiny-secret"
    with pytest.raises(ValidationError) as raised:
        PusherSettings(environment="production", secret=pusher_secret)
    assert "PUSHER_SECRET" in str(raised.value) and pusher_secret not in str(raised.value)
    settings = Settings(jwt_secret=jwt_secret, operator_key="op-" + new_key())
    assert jwt_secret not in repr(settings) and settings.operator_key not in repr(settings)
    pusher = PusherSettings(secret="ps-" + new_key())
    assert pusher.secret not in repr(pusher) and pusher.secret not in str(pusher)


def test_redact_secrets_masks_messages_arguments_and_tracebacks() -> None:
    secret = "pusher-" + new_key()
    redact = RedactSecrets([secret, "short", ""])
    assert redact.secrets == [secret]  # values too short to be secrets are not masked
    signature = hashlib.sha256(b"x").hexdigest()
    try:
        raise RuntimeError(f"POST /apps/1/events?auth_signature={signature} with {secret}")
    except RuntimeError:
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "failed: %s %s", (secret, "ok"), sys.exc_info()
        )
    assert redact.filter(record)
    text = logging.Formatter().format(record)
    assert secret not in text and signature not in text
    assert f"failed: {MASK} ok" in text and f"auth_signature={MASK}" in text
    assert "RuntimeError" in text  # the traceback is still there


def test_setup_logging_redacts_the_services_secrets() -> None:
    """In a fresh interpreter: the service log set up as every service does."""
    secrets = {name: f"{name.lower()}-{new_key()}" for name in ("PUSHER_SECRET", "JWT_SECRET")}
    script = (
        "import logging, os\n"
        "from overlap_shared.logs import setup_logging\n"
        "setup_logging('DEBUG')\n"
        "s = os.environ['PUSHER_SECRET']\n"
        "logging.getLogger('overlap').debug('secret %s and %s', s, os.environ['JWT_SECRET'])\n"
        "try:\n"
        "    raise ValueError('bad ' + s)\n"
        "except ValueError:\n"
        "    logging.getLogger('uvicorn.error').exception('boom')\n"
        "    logging.getLogger('x').exception('again')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**secrets, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr.count(MASK) >= 4, done.stderr
    assert "DEBUG overlap: secret" in done.stderr and "ValueError: bad" in done.stderr
    for value in secrets.values():
        assert value not in done.stderr
