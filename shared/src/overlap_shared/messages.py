"""The message catalogue: every type on the Kafka bus, as frozen pydantic models.

``events`` is the public face (it re-exports these and the codec); this module holds the
models alone, so the codec can build on them without an import cycle.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final, Literal, TypeAlias, get_args
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from overlap_shared.slots import MAX_SLOTS

SCHEMA_VERSION: Final = 1
"""The current (and only) ``schema_version`` of every message type."""

MAX_MESSAGE_BYTES: Final = 64 * 1024
"""Larger values are malformed without being parsed: the largest message is ~1 KB."""

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


_DomainEvents: TypeAlias = (
    EventCreated
    | EventUpdated
    | EventFinalized
    | EventDeleted
    | ParticipantJoined
    | ParticipantRenamed
    | ParticipantLeft
    | AvailabilityChanged
)
DomainEvent: TypeAlias = Annotated[_DomainEvents, Field(discriminator="type")]

# ------------------------------------------------------------------- view messages


class ViewRefreshed(Envelope):
    """A new view (block map) of ``event_id`` at ``version`` is in Redis."""

    type: Literal["ViewRefreshed"] = "ViewRefreshed"
    data: ViewRefreshedData


# A union of one for now; new view-topic types join it with Field(discriminator="type").
ViewMessage: TypeAlias = ViewRefreshed

Message: TypeAlias = _DomainEvents | ViewRefreshed
"""Anything :func:`encode` accepts."""

domain_event_adapter: TypeAdapter[DomainEvent] = TypeAdapter(DomainEvent)
view_message_adapter: TypeAdapter[ViewMessage] = TypeAdapter(ViewMessage)

DOMAIN_EVENT_CLASSES: Final[dict[str, type[Envelope]]] = {
    cls.model_fields["type"].default: cls for cls in get_args(get_args(DomainEvent)[0])
}
DOMAIN_EVENT_TYPES: Final[tuple[str, ...]] = tuple(DOMAIN_EVENT_CLASSES)
VIEW_TYPES: Final = frozenset({"ViewRefreshed"})
