"""Bytes to messages and back: the one place that says what is malformed or unknown.

Two ways in, one verdict. :func:`decode` / :func:`decode_view` validate a whole message
with pydantic. A worker reads a batch in steps instead (``overlap_shared.intake``):
:func:`peek_type` finds each record's type with a plain ``orjson`` parse, so records of
types the worker skips cost nothing more; :func:`read_heads` validates the envelopes
(:class:`Head`) and :func:`decode_all` the whole messages of a batch, each in one pydantic
call, falling back to one call per record to say which record is wrong, with the error
:func:`decode` would give. Duplicate keys in any JSON object make a message malformed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeAlias, TypeVar
from uuid import UUID

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, TypeAdapter, ValidationError

from overlap_shared.messages import (
    DOMAIN_EVENT_TYPES,
    MAX_MESSAGE_BYTES,
    VIEW_TYPES,
    DomainEvent,
    Envelope,
    Message,
    PublicToken,
    Version,
    ViewMessage,
    ViewRefreshed,
    domain_event_adapter,
    view_message_adapter,
)

# Envelope fields that have defaults for producers but must be present on the wire: a
# message without its id would get a fresh one on every replay and defeat dedup.
_WIRE_REQUIRED: Final = frozenset({"id", "type", "schema_version", "occurred_at", "data"})


class MessageError(ValueError):
    """A message a consumer cannot process; it belongs in the dead-letter topic."""


class UnknownMessage(MessageError):
    """Well-formed JSON, but a ``type`` or ``schema_version`` this code does not know."""


class MalformedMessage(MessageError):
    """Not JSON, or does not match the schema of its type (the cause is chained)."""


M = TypeVar("M", bound=Envelope)


@dataclass(frozen=True)
class Catalogue(Generic[M]):
    """The message types of one topic, and the adapter that validates them."""

    types: frozenset[str]
    adapter: TypeAdapter[M]
    batch: TypeAdapter[list[M]]


DOMAIN: Final[Catalogue[DomainEvent]] = Catalogue(
    frozenset(DOMAIN_EVENT_TYPES), domain_event_adapter, TypeAdapter(list[DomainEvent])
)
VIEWS: Final[Catalogue[ViewMessage]] = Catalogue(
    VIEW_TYPES, view_message_adapter, TypeAdapter(list[ViewMessage])
)


class Head(BaseModel):
    """The envelope of a message, validated without its body (``data`` must be there)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: UUID
    type: str
    schema_version: Literal[1]
    occurred_at: AwareDatetime
    event_id: UUID
    token: PublicToken
    version: Version
    data: dict[str, Any]

    @classmethod
    def of(cls, msg: Envelope) -> Head:
        """The head of a decoded message."""
        fields = {name: getattr(msg, name) for name in _HEAD_FIELDS}
        return cls.model_construct(**fields, data={})


# What a worker routes on: a :class:`Head`, or the whole message when its body was decoded.
AnyHead: TypeAlias = Head | Envelope

_HEAD_FIELDS: Final = (
    "id",
    "type",
    "schema_version",
    "occurred_at",
    "event_id",
    "token",
    "version",
)
_HEADS: Final = TypeAdapter(list[Head])


def encode(msg: Message) -> bytes:
    """Compact JSON bytes of a domain event or view message."""
    return orjson.dumps(msg.model_dump(mode="json"))


def kafka_key(msg: Message) -> bytes:
    """The Kafka record key: the aggregate event id, so one event's messages stay ordered."""
    return str(msg.event_id).encode()


def decode(raw: bytes | str | None) -> DomainEvent:
    """Parse and validate a domain-topic message (a Kafka record's value).

    Raises :class:`UnknownMessage` for an unknown ``type``/``schema_version`` and
    :class:`MalformedMessage` for anything else invalid, including ``None`` (a tombstone),
    values over :data:`MAX_MESSAGE_BYTES` and duplicate keys. Stricter than constructing a
    model: JSON types must match (no ``"3"`` for an int) and envelope fields that have
    defaults for producers (``id``, ``schema_version``, ``occurred_at``, ``data``) must be
    present.
    """
    return decode_with(DOMAIN, raw)


def decode_view(raw: bytes | str | None) -> ViewRefreshed:
    """Parse and validate a views-topic message (same errors as :func:`decode`)."""
    return decode_with(VIEWS, raw)


def decode_with(catalogue: Catalogue[M], raw: bytes | str | None) -> M:
    """:func:`decode` for the types of ``catalogue``."""
    raw = _check_record(raw)
    _reject_duplicates(raw, _loads(raw))
    return _validated(catalogue, raw)


def _validated(catalogue: Catalogue[M], raw: bytes | str) -> M:
    try:
        msg = catalogue.adapter.validate_json(raw, strict=True)
    except ValidationError as exc:
        raise _classify(exc, raw, catalogue.types) from exc
    return _check_wire_fields(msg)


def decode_all(catalogue: Catalogue[M], raws: list[bytes]) -> list[M | MessageError]:
    """Each of ``raws`` decoded, or why it is not: JSON objects (see :func:`peek_type`)
    already checked for size and duplicate keys (:func:`check_duplicates`)."""
    if len(raws) < 2:  # a list adapter costs more than it saves for one
        return [_decode_or_error(catalogue, raw) for raw in raws]
    try:  # each value is one JSON object (peek_type parsed it): the join is one array
        batch = catalogue.batch.validate_json(b"[" + b",".join(raws) + b"]", strict=True)
    except ValidationError:
        return [_decode_or_error(catalogue, raw) for raw in raws]
    return [_wire_or_error(msg) for msg in batch]


def read_heads(catalogue: Catalogue[Any], raws: list[bytes]) -> list[Head | MessageError]:
    """The envelope of each of ``raws`` (parsed JSON objects of ``catalogue``'s types),
    validated in one pydantic call; a record whose envelope is wrong gets the error
    :func:`decode` gives it."""
    if len(raws) < 2:
        return [_head_or_error(catalogue, raw) for raw in raws]
    try:
        heads = _HEADS.validate_json(b"[" + b",".join(raws) + b"]", strict=True)
    except ValidationError:
        return [_head_or_error(catalogue, raw) for raw in raws]
    known = catalogue.types
    return [
        h if h.type in known else _head_or_error(catalogue, r)
        for h, r in zip(heads, raws, strict=True)
    ]


def _head_or_error(catalogue: Catalogue[Any], raw: bytes) -> Head | MessageError:
    try:
        head = Head.model_validate_json(raw, strict=True)
        if head.type in catalogue.types:
            return head
    except ValidationError:
        pass
    try:  # the canonical error (or, should pydantic accept it after all, its head)
        return Head.of(decode_with(catalogue, raw))
    except MessageError as exc:
        return exc


def peek_type(raw: bytes | None) -> tuple[str | None, Any]:
    """The ``type`` of a record's value and the parsed value, without validating
    anything (``(None, ...)`` when it has none)."""
    if raw is None or len(raw) > MAX_MESSAGE_BYTES:
        return None, None
    obj = _loads(raw)
    kind = obj.get("type") if isinstance(obj, dict) else None
    return (kind if isinstance(kind, str) else None), obj


def check_duplicates(raw: bytes, obj: Any) -> None:
    """Raise :class:`MalformedMessage` when an object of ``raw`` (parsed as ``obj``)
    repeats a key."""
    _reject_duplicates(raw, obj)


def _loads(raw: bytes | str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # pydantic says why, in the words the dead-letter headers use


def _reject_duplicates(raw: bytes | str, obj: Any) -> None:
    """MalformedMessage when any object in ``raw`` repeats a key (JSON parsers keep one of
    them silently). Compact JSON that re-serialises to itself has none: one comparison."""
    if obj is None or orjson.dumps(obj) == (raw if isinstance(raw, bytes) else raw.encode()):
        return
    json.loads(raw, object_pairs_hook=_unique_keys)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        names = [name for name, _ in pairs]
        twice = next(name for i, name in enumerate(names) if name in names[:i])
        raise MalformedMessage(f"duplicate key: {twice!r}")
    return obj


def _decode_or_error(catalogue: Catalogue[M], raw: bytes) -> M | MessageError:
    try:
        return _validated(catalogue, raw)
    except MessageError as exc:
        return exc


def _wire_or_error(msg: M) -> M | MessageError:
    try:
        return _check_wire_fields(msg)
    except MessageError as exc:
        return exc


def _check_record(raw: bytes | str | None) -> bytes | str:
    if raw is None:
        raise MalformedMessage("record has no value (a tombstone)")
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise MalformedMessage(f"oversize: {size} bytes, the limit is {MAX_MESSAGE_BYTES}")
    return raw


def _check_wire_fields(msg: M) -> M:
    missing = _WIRE_REQUIRED - msg.model_fields_set
    if missing:
        raise MalformedMessage(f"missing envelope field(s): {', '.join(sorted(missing))}")
    return msg


def _classify(exc: ValidationError, raw: bytes | str, known: frozenset[str]) -> MessageError:
    """Turn a validation failure into UnknownMessage or MalformedMessage."""
    for err in exc.errors(include_url=False, include_input=False):
        kind, loc = err["type"], err["loc"]
        if kind == "union_tag_invalid":
            return UnknownMessage(f"unknown message type: {_peek(raw, 'type')!r}")
        if kind == "literal_error" and loc and loc[-1] == "type":
            return UnknownMessage(f"unknown message type: {_peek(raw, 'type')!r}")
        if kind == "literal_error" and loc and loc[-1] == "schema_version":
            msg_type = _peek(raw, "type")
            if msg_type in known:
                version = _peek(raw, "schema_version")
                return UnknownMessage(f"unsupported schema_version {version!r} of {msg_type}")
    return MalformedMessage(f"invalid message: {_summary(exc)}")


def _summary(exc: ValidationError, shown: int = 3) -> str:
    """The first errors, one line each, without the input (it is in the message itself)."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:shown]:
        where = ".".join(str(part) for part in err["loc"])
        parts.append(f"{where + ': ' if where else ''}{err['msg']} [{err['type']}]")
    more = exc.error_count() - shown
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _peek(raw: bytes | str, field: str) -> Any:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return obj.get(field) if isinstance(obj, dict) else None
