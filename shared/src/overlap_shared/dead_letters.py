"""Raw Kafka records for the workers, and parking the ones a consumer group cannot process.

Every worker subscribes with :data:`RAW_RECORDS` and decodes each record's value itself
with :func:`overlap_shared.events.decode` / :func:`~overlap_shared.events.decode_view`
(the one place that says what is malformed or unknown), so nothing a foreign producer
writes can stop a consumer before that:

* FastStream's parser decodes every header value as UTF-8; on one that is not (or a null
  header value) it fails the whole batch, which is then lost without a trace (a later
  commit moves past it). :func:`readable_headers` gives it readable copies.
* Its decoder parses bodies according to a ``content-type`` header and fails on a body
  that does not match, which with ``NACK_ON_ERROR`` replays the batch forever.
  :func:`the_message` leaves bodies alone: the handler is given the message itself
  (the workers' broker injects nothing, see ``worker.create_broker``).
* A ``reply_to`` header would make it publish the handler's result to that topic:
  ``no_reply``.

:func:`dead_letter` copies a record to ``dead_letter_topic(topic, group)`` with the same
key and value and the headers ``error`` (why, at most 500 characters),
``source-topic``, ``source-partition`` and ``source-offset`` (and ``attempts`` for a record
that failed to process, see ``overlap_shared.consumer``). A key or value over
:data:`~overlap_shared.events.MAX_MESSAGE_BYTES` (such a value is malformed anyway) is
cut to that size, with a ``truncated-from`` header giving the original sizes, so the copy
always fits in a Kafka record. A tombstone (no value) stays a tombstone when it has a
key; a record with neither is copied with an empty value.
"""

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeAlias

from aiokafka import ConsumerRecord
from faststream.message import StreamMessage

from overlap_shared.events import MAX_MESSAGE_BYTES
from overlap_shared.producer import ReplaceableProducer
from overlap_shared.topics import dead_letter_topic

__all__ = [
    "RAW_RECORDS",
    "Record",
    "dead_letter",
    "publish_dead_letter",
    "readable_headers",
    "reason",
    "records",
    "the_message",
]

MAX_REASON_CHARS: Final = 500

Record: TypeAlias = ConsumerRecord[bytes, bytes]


def records(msg: StreamMessage[Any]) -> tuple[Record, ...]:
    """The ConsumerRecords of a consumed batch (or of one message), bodies undecoded."""
    raw = msg.raw_message
    return raw if isinstance(raw, tuple) else (raw,)


def _readable(record: Record) -> Record:
    headers = record.headers
    if all(isinstance(v, bytes) and _is_utf8(v) for _, v in headers):
        return record
    fixed = [(k, (v or b"").decode("utf-8", "replace").encode()) for k, v in headers]
    return dataclasses.replace(record, headers=fixed)


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


async def readable_headers(
    raw: Any, parser: Callable[[Any], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    """FastStream parser: the default one, on records whose header values are UTF-8."""
    if isinstance(raw, tuple):
        return await parser(tuple(_readable(r) for r in raw))
    return await parser(_readable(raw))


async def the_message(msg: StreamMessage[Any]) -> StreamMessage[Any]:
    """FastStream decoder: the message itself, its records' values as they are (the
    worker decodes and dead-letters); the handler reads them with :func:`records`."""
    return msg


RAW_RECORDS: Final[Mapping[str, Any]] = {
    "parser": readable_headers,
    "decoder": the_message,
    "no_reply": True,
}
"""Subscriber options of every worker: see the module docstring."""


def reason(exc: BaseException) -> str:
    """The ``error`` header for ``exc``: its class and message, short and valid UTF-8."""
    text = f"{type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]
    return text.encode("utf-8", "backslashreplace").decode()


async def dead_letter(
    producer: ReplaceableProducer,
    group: str,
    record: Record,
    error: str,
    extra_headers: Mapping[str, str] | None = None,
) -> None:
    """Copy a consumed ``record`` to ``group``'s dead-letter topic of its topic."""
    where = {"source-partition": str(record.partition), "source-offset": str(record.offset)}
    await publish_dead_letter(
        producer,
        group,
        record.topic,
        record.key,
        record.value,
        error,
        where | dict(extra_headers or {}),
    )


async def publish_dead_letter(
    producer: ReplaceableProducer,
    group: str,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    error: str,
    extra_headers: Mapping[str, str] | None = None,
) -> None:
    """Publish ``key``/``value`` (read from ``topic``) to ``group``'s dead-letter topic of
    it. Raises when Kafka does not take it: the caller must then not commit the record."""
    headers = {
        "error": error[:MAX_REASON_CHARS].encode("utf-8", "backslashreplace").decode(),
        "source-topic": topic,
        **(extra_headers or {}),
    }
    if max(len(key or b""), len(value or b"")) > MAX_MESSAGE_BYTES:
        headers["truncated-from"] = f"key={len(key or b'')} value={len(value or b'')}"
        key = None if key is None else key[:MAX_MESSAGE_BYTES]
        value = None if value is None else value[:MAX_MESSAGE_BYTES]
    await producer.publish(value, dead_letter_topic(topic, group), key=key, headers=headers)
