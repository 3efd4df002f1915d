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

This module is the catalogue's public face: the models live in ``messages`` and the
codec in ``codec``; both are re-exported here. Use :func:`encode` to produce bytes and
:func:`decode` / :func:`decode_view` to read them (workers read the envelope first with
:func:`~overlap_shared.codec.read_heads`). Decoding is the one place that classifies a
record's value: it raises
:class:`UnknownMessage` for a type or ``schema_version`` this code does not know, and
:class:`MalformedMessage` for anything else that cannot be a message (no value at all — a
Kafka tombstone, which no producer of ours writes —, more than :data:`MAX_MESSAGE_BYTES`,
not UTF-8 JSON, a key repeated in an object, not an object, missing or extra fields,
wrong types). Both are
``ValueError`` subclasses of :class:`MessageError`; consumers send such messages to their
dead-letter topic (``overlap_shared.dead_letters``) and go on with the next one.

Compatibility rules (``tests/unit/shared/golden/*.json`` pin the wire format):

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

from overlap_shared.codec import (
    MalformedMessage,
    MessageError,
    UnknownMessage,
    decode,
    decode_view,
    encode,
    kafka_key,
)
from overlap_shared.messages import (
    DOMAIN_EVENT_CLASSES,
    DOMAIN_EVENT_TYPES,
    MAX_MESSAGE_BYTES,
    SCHEMA_VERSION,
    AvailabilityChanged,
    AvailabilityChangedData,
    DomainEvent,
    DomainEventType,
    Envelope,
    EventCreated,
    EventCreatedData,
    EventDeleted,
    EventDeletedData,
    EventFinalized,
    EventFinalizedData,
    EventUpdated,
    EventUpdatedData,
    Message,
    ParticipantJoined,
    ParticipantJoinedData,
    ParticipantLeft,
    ParticipantLeftData,
    ParticipantRenamed,
    ParticipantRenamedData,
    ViewMessage,
    ViewRefreshed,
    ViewRefreshedData,
    domain_event_adapter,
    view_message_adapter,
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
