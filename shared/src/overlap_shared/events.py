"""Domain event catalog: the messages on the Kafka bus.

Two topics carry messages defined here:

* the domain topic (``settings.domain_topic``) carries :data:`DomainEvent` — one
  discriminated union on ``type`` (``EventCreated`` ... ``AvailabilityChanged``),
  written by the API's outbox relay and keyed by :func:`kafka_key` (the aggregate
  ``event_id``) so all changes to one event stay ordered;
* the views topic (``settings.views_topic``) carries :class:`ViewRefreshed`,
  published by the availability worker for the notifier.

Every message is a frozen pydantic model sharing one envelope: ``id`` (unique message
id, used by consumers for dedup), ``type``, ``schema_version``, ``occurred_at`` (UTC),
``event_id``, ``token`` (the event's *public* link token), ``version`` (the aggregate
version after the change) and a per-type ``data`` object. Messages never carry secrets:
no admin/participant keys and no hashes of them.

Use :func:`encode` to produce bytes and :func:`decode` / :func:`decode_view` to read
them. Decoding is the one place that classifies a record's value: it raises
:class:`UnknownMessage` for a type or ``schema_version`` this code does not know, and
:class:`MalformedMessage` for anything else that cannot be a message (no value at all — a
Kafka tombstone, which no producer of ours writes —, more than :data:`MAX_MESSAGE_BYTES`,
not UTF-8 JSON, not an object, missing or extra fields, wrong types). Both are
``ValueError`` subclasses of :class:`MessageError`; consumers send such messages to their
dead-letter topic (``overlap_shared.dead_letters``) and go on with the next one.

Compatibility rules (``tests/unit/golden/*.json`` pin the wire format):

* Adding an *optional* field (with a default) to an envelope or ``data`` model is
  compatible, but deploy consumers before producers: models use ``extra="forbid"``, so
  an old consumer dead-letters a message that carries a field it does not know.
* Adding a new message type is compatible in the same way (old consumers dead-letter it
  as :class:`UnknownMessage`); deploy consumers first.
* Renaming or removing a field, making an optional field required, changing a field's
  type or meaning, or narrowing its allowed values is a breaking change: bump
  ``schema_version`` for that type (and keep decoding the old version until every
  producer has moved on), or introduce a new type name.
* Never reuse a retired type name or field name with a different meaning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal, TypeAlias, TypeVar, get_args
from uuid import UUID, uuid4

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

__all__ = [
    "DOMAIN_EVENT_CLASSES",
    "DOMAIN_EVENT_TYPES",
    "MAX_MESSAGE_BYTES",
    "SCHEMA_VERSION",
    "AvailabilityChanged",
    "AvailabilityChangedData",
    "DomainEvent",
    "DomainEventType",
    "Envelope",
    "EventCreated",
    "EventCreatedData",
    "EventDeleted",
    "EventDeletedData",
    "EventFinalized",
    "EventFinalizedData",
    "EventUpdated",
    "EventUpdatedData",
    "MalformedMessage",
    "Message",
    "MessageError",
    "ParticipantJoined",
    "ParticipantJoinedData",
    "ParticipantLeft",
    "ParticipantLeftData",
    "ParticipantRenamed",
    "ParticipantRenamedData",
    "UnknownMessage",
    "ViewMessage",
    "ViewRefreshed",
    "ViewRefreshedData",
    "decode",
    "decode_view",
    "domain_event_adapter",
    "encode",
    "kafka_key",
    "view_message_adapter",
]

SCHEMA_VERSION: Final = 1
"""The current (and only) ``schema_version`` of every message type."""

MAX_SLOTS: Final = 62 * 96

MAX_MESSAGE_BYTES: Final = 64 * 1024
"""Larger values are malformed without being parsed: the largest message is ~1 KB."""

# Envelope fields that have defaults for producers but must be present on the wire: a
# message without its id would get a fresh one on every replay and defeat dedup.
_WIRE_REQUIRED: Final = frozenset({"id", "type", "schema_version", "occurred_at", "data"})


# --------------------------------------------------------------------------- errors


class MessageError(ValueError):
    """A message a consumer cannot process; it belongs in the dead-letter topic."""


class UnknownMessage(MessageError):
    """Well-formed JSON, but a ``type`` or ``schema_version`` this code does not know."""


class MalformedMessage(MessageError):
    """Not JSON, or does not match the schema of its type (the cause is chained)."""


# ------------------------------------------------------------------------ base types


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


UtcDatetime: TypeAlias = Annotated[AwareDatetime, AfterValidator(_to_utc)]
PublicToken: TypeAlias = Annotated[
    str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
]
Version: TypeAlias = Annotated[int, Field(ge=1)]
SlotIndex: TypeAlias = Annotated[int, Field(ge=0, le=MAX_SLOTS)]
SlotCount: TypeAlias = Annotated[int, Field(ge=0, le=MAX_SLOTS)]
ParticipantName: TypeAlias = Annotated[str, Field(min_length=1, max_length=80)]
UserId: TypeAlias = Annotated[str, Field(min_length=1, max_length=255)]

DomainEventType: TypeAlias = Literal[
    "EventCreated",
    "EventUpdated",
    "EventFinalized",
    "EventDeleted",
    "ParticipantJoined",
    "ParticipantRenamed",
    "ParticipantLeft",
    "AvailabilityChanged",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(_Frozen):
    """Fields common to every message; ``type`` and ``data`` are narrowed per subclass.

    Not a message itself (``type`` is a plain ``str`` here); use it for typing code that
    handles any message generically (``msg.event_id``, ``msg.version``, ...).
    """

    id: UUID = Field(default_factory=uuid4, description="Unique message id (dedup key).")
    type: str
    schema_version: Literal[1] = SCHEMA_VERSION
    occurred_at: UtcDatetime = Field(default_factory=_utc_now)
    event_id: UUID = Field(description="Aggregate (scheduling event) id; the Kafka key.")
    token: PublicToken = Field(description="The event's public link token.")
    version: Version = Field(description="Aggregate version after the change.")


# --------------------------------------------------------------------- data models


class EventCreatedData(_Frozen):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    timezone: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Literal["dates", "weekdays"]
    slot_minutes: Literal[15, 30, 60]
    slot_count: Annotated[int, Field(ge=1, le=MAX_SLOTS)]
    creator_user_id: UserId | None = None


class EventUpdatedData(_Frozen):
    fields: tuple[str, ...] = Field(description="Names of the changed event fields.")
    grid_changed: bool = Field(description="True when the slot grid (and so slots) changed.")


class EventFinalizedData(_Frozen):
    start: SlotIndex = Field(description="First slot of the chosen range (inclusive).")
    end: SlotIndex = Field(description="End of the chosen range (exclusive).")

    @model_validator(mode="after")
    def _non_empty(self) -> EventFinalizedData:
        if self.end <= self.start:
            raise ValueError("end must be greater than start")
        return self


class EventDeletedData(_Frozen):
    pass


class ParticipantJoinedData(_Frozen):
    participant_id: UUID
    name: ParticipantName
    user_id: UserId | None = None


class ParticipantRenamedData(_Frozen):
    participant_id: UUID
    name: ParticipantName


class ParticipantLeftData(_Frozen):
    participant_id: UUID
    removed_by_admin: bool


class AvailabilityChangedData(_Frozen):
    participant_id: UUID
    available_slots: SlotCount = Field(description="Slots now marked available.")
    if_needed_slots: SlotCount = Field(description="Slots now marked if-needed.")


class ViewRefreshedData(_Frozen):
    changes: tuple[str, ...] = Field(
        description="Domain event types coalesced into this refresh, in order, deduplicated."
    )
    size_bytes: Annotated[int, Field(ge=0)] = Field(
        description="Size of the serialized view stored in Redis."
    )


# ------------------------------------------------------------------ domain events


class EventCreated(Envelope):
    type: Literal["EventCreated"] = "EventCreated"
    data: EventCreatedData


class EventUpdated(Envelope):
    type: Literal["EventUpdated"] = "EventUpdated"
    data: EventUpdatedData


class EventFinalized(Envelope):
    type: Literal["EventFinalized"] = "EventFinalized"
    data: EventFinalizedData


class EventDeleted(Envelope):
    type: Literal["EventDeleted"] = "EventDeleted"
    data: EventDeletedData = Field(default_factory=EventDeletedData)


class ParticipantJoined(Envelope):
    type: Literal["ParticipantJoined"] = "ParticipantJoined"
    data: ParticipantJoinedData


class ParticipantRenamed(Envelope):
    type: Literal["ParticipantRenamed"] = "ParticipantRenamed"
    data: ParticipantRenamedData


class ParticipantLeft(Envelope):
    type: Literal["ParticipantLeft"] = "ParticipantLeft"
    data: ParticipantLeftData


class AvailabilityChanged(Envelope):
    type: Literal["AvailabilityChanged"] = "AvailabilityChanged"
    data: AvailabilityChangedData


DomainEvent: TypeAlias = Annotated[
    EventCreated
    | EventUpdated
    | EventFinalized
    | EventDeleted
    | ParticipantJoined
    | ParticipantRenamed
    | ParticipantLeft
    | AvailabilityChanged,
    Field(discriminator="type"),
]

# ------------------------------------------------------------------- view messages


class ViewRefreshed(Envelope):
    """A new view (block map) of ``event_id`` at ``version`` is in Redis."""

    type: Literal["ViewRefreshed"] = "ViewRefreshed"
    data: ViewRefreshedData


# A union of one for now; new view-topic types join it with Field(discriminator="type").
ViewMessage: TypeAlias = ViewRefreshed

Message: TypeAlias = (
    EventCreated
    | EventUpdated
    | EventFinalized
    | EventDeleted
    | ParticipantJoined
    | ParticipantRenamed
    | ParticipantLeft
    | AvailabilityChanged
    | ViewRefreshed
)
"""Anything :func:`encode` accepts."""

domain_event_adapter: TypeAdapter[DomainEvent] = TypeAdapter(DomainEvent)
view_message_adapter: TypeAdapter[ViewMessage] = TypeAdapter(ViewMessage)

DOMAIN_EVENT_CLASSES: Final[dict[str, type[Envelope]]] = {
    cls.model_fields["type"].default: cls for cls in get_args(get_args(DomainEvent)[0])
}
DOMAIN_EVENT_TYPES: Final[tuple[str, ...]] = tuple(DOMAIN_EVENT_CLASSES)
_VIEW_TYPES: Final = frozenset({"ViewRefreshed"})


# -------------------------------------------------------------------- (de)coding


def encode(msg: Message) -> bytes:
    """Compact JSON bytes of a domain event or view message."""
    return orjson.dumps(msg.model_dump(mode="json"))


def kafka_key(msg: Message) -> bytes:
    """The Kafka record key: the aggregate event id, so one event's messages stay ordered."""
    return str(msg.event_id).encode()


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


def _check_record(raw: bytes | str | None) -> bytes | str:
    if raw is None:
        raise MalformedMessage("record has no value (a tombstone)")
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise MalformedMessage(f"oversize: {size} bytes, the limit is {MAX_MESSAGE_BYTES}")
    return raw


_M = TypeVar("_M", bound=Envelope)


def _check_wire_fields(msg: _M) -> _M:
    missing = _WIRE_REQUIRED - msg.model_fields_set
    if missing:
        raise MalformedMessage(f"missing envelope field(s): {', '.join(sorted(missing))}")
    return msg


def _peek(raw: bytes | str, field: str) -> Any:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return obj.get(field) if isinstance(obj, dict) else None


def decode(raw: bytes | str | None) -> DomainEvent:
    """Parse and validate a domain-topic message (a Kafka record's value).

    Raises :class:`UnknownMessage` for an unknown ``type``/``schema_version`` and
    :class:`MalformedMessage` for anything else invalid, including ``None`` (a tombstone)
    and values over :data:`MAX_MESSAGE_BYTES`. Stricter than constructing a model: JSON
    types must match (no ``"3"`` for an int) and envelope fields that have defaults for
    producers (``id``, ``schema_version``, ``occurred_at``, ``data``) must be present.
    """
    raw = _check_record(raw)
    try:
        msg = domain_event_adapter.validate_json(raw, strict=True)
    except ValidationError as exc:
        raise _classify(exc, raw, frozenset(DOMAIN_EVENT_TYPES)) from exc
    return _check_wire_fields(msg)


def decode_view(raw: bytes | str | None) -> ViewRefreshed:
    """Parse and validate a views-topic message (same errors as :func:`decode`)."""
    raw = _check_record(raw)
    try:
        msg = view_message_adapter.validate_json(raw, strict=True)
    except ValidationError as exc:
        raise _classify(exc, raw, _VIEW_TYPES) from exc
    return _check_wire_fields(msg)
