"""Kafka records and worker inputs built in memory, for the workers' unit tests."""

from aiokafka import ConsumerRecord
from overlap_shared import codec, events
from overlap_shared.dead_letters import Record
from overlap_shared.intake import Inbound


def record(
    value: bytes | None,
    key: bytes | None = b"k",
    headers: list[tuple[str, bytes | None]] | None = None,
    offset: int = 7,
    topic: str = "domain",
) -> Record:
    return ConsumerRecord(
        topic=topic,
        partition=3,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(value or b""),
        headers=headers or [],  # Kafka allows null header values
    )


def inbound(msg: events.DomainEvent, offset: int = 0) -> Inbound[events.DomainEvent]:
    """What the intake hands a worker for ``msg``: its record, head and body."""
    return Inbound(record(events.encode(msg), offset=offset), codec.Head.of(msg), msg)
