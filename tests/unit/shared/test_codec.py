"""The codec's two ways in agree: the envelope-first fast path accepts only what the full
decode accepts, duplicate keys are malformed either way, and a batch decodes at once."""

import uuid
from typing import Any

import orjson
import pytest
from overlap_shared import codec, events

EVENT_ID = uuid.UUID(int=5)


def changed(version: int = 3) -> events.AvailabilityChanged:
    data = events.AvailabilityChangedData(
        participant_id=uuid.UUID(int=9), available_slots=2, if_needed_slots=0
    )
    return events.AvailabilityChanged(event_id=EVENT_ID, token="tok", version=version, data=data)


def test_the_head_of_a_message_is_its_envelope() -> None:
    msg = changed()
    head = codec.read_head(codec.DOMAIN, events.encode(msg))
    assert head == codec.Head.of(msg)
    assert (head.type, head.event_id, head.token, head.version) == (
        "AvailabilityChanged",
        EVENT_ID,
        "tok",
        3,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"version": "3"},
        {"version": 0},
        {"version": True},
        {"token": "no spaces"},
        {"event_id": "not-a-uuid-but-thirty-six-characters"},
        {"schema_version": 2},
        {"type": "Nope"},
        {"occurred_at": "yesterday"},
        {"occurred_at": "2026-01-01T00:00:00"},  # no zone
    ],
)
def test_a_bad_envelope_is_refused_as_the_full_decode_refuses_it(change: dict[str, Any]) -> None:
    raw = orjson.dumps({**orjson.loads(events.encode(changed())), **change})
    with pytest.raises(events.MessageError) as full:
        events.decode(raw)
    with pytest.raises(events.MessageError) as fast:
        codec.read_head(codec.DOMAIN, raw)
    assert (type(fast.value), str(fast.value)) == (type(full.value), str(full.value))


def test_a_non_compact_message_is_read_through_the_full_decode() -> None:
    msg = changed()
    raw = orjson.dumps(orjson.loads(events.encode(msg)), option=orjson.OPT_INDENT_2)
    assert codec.read_head(codec.DOMAIN, raw) == codec.Head.of(msg)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"version":3,"version":4}',
        events.encode(changed()).replace(b'"token":"tok"', b'"token":"tok","token":"other"'),
        events.encode(changed()).replace(
            b'"if_needed_slots":0', b'"if_needed_slots":0, "available_slots":1'
        ),
    ],
)
def test_duplicate_keys_are_malformed_at_any_depth(raw: bytes) -> None:
    for read in (events.decode, lambda r: codec.read_head(codec.DOMAIN, r)):
        with pytest.raises(events.MalformedMessage, match="duplicate key"):
            read(raw)


def test_a_batch_decodes_at_once_and_names_each_bad_body() -> None:
    msg = changed()
    good = events.encode(msg)
    bad = good.replace(b'"available_slots":2', b'"available_slots":-1')
    assert codec.decode_all(codec.DOMAIN, [good, good]) == [msg, msg]
    first, second = codec.decode_all(codec.DOMAIN, [good, bad])
    assert first == msg
    assert isinstance(second, events.MalformedMessage)
    assert "available_slots" in str(second)
    assert codec.decode_all(codec.DOMAIN, []) == []
