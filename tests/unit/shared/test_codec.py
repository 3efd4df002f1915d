"""The codec's two ways in agree: a batch's envelopes are refused with the error the full
decode gives, duplicate keys are malformed, and a batch decodes at once."""

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


def read_head(raw: bytes) -> codec.Head:
    (head,) = codec.read_heads(codec.DOMAIN, [raw])
    if isinstance(head, events.MessageError):
        raise head
    return head


def fields(head: codec.Head) -> tuple[object, ...]:
    return (head.id, head.type, head.event_id, head.token, head.version, head.occurred_at)


def test_the_head_of_a_message_is_its_envelope() -> None:
    msg = changed()
    head = read_head(events.encode(msg))
    assert fields(head) == fields(codec.Head.of(msg))
    assert (head.type, head.event_id, head.token, head.version) == (
        "AvailabilityChanged",
        EVENT_ID,
        "tok",
        3,
    )
    assert codec.peek_type(events.encode(msg))[0] == "AvailabilityChanged"
    assert codec.peek_type(b"[1]")[0] is None and codec.peek_type(None)[0] is None


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
        {"id": "x"},
    ],
)
def test_a_bad_envelope_is_refused_as_the_full_decode_refuses_it(change: dict[str, Any]) -> None:
    raw = orjson.dumps({**orjson.loads(events.encode(changed())), **change})
    with pytest.raises(events.MessageError) as full:
        events.decode(raw)
    with pytest.raises(events.MessageError) as fast:
        read_head(raw)
    assert (type(fast.value), str(fast.value)) == (type(full.value), str(full.value))


def test_a_batch_of_envelopes_names_each_bad_one() -> None:
    msg = changed()
    good = events.encode(msg)
    indented = orjson.dumps(orjson.loads(good), option=orjson.OPT_INDENT_2)
    bad = orjson.dumps({**orjson.loads(good), "id": None})
    first, second, third = codec.read_heads(codec.DOMAIN, [good, indented, bad])
    assert isinstance(first, codec.Head) and isinstance(second, codec.Head)
    assert fields(first) == fields(second) == fields(codec.Head.of(msg))
    assert isinstance(third, events.MalformedMessage) and "id" in str(third)


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
    with pytest.raises(events.MalformedMessage, match="duplicate key"):
        events.decode(raw)
    with pytest.raises(events.MalformedMessage, match="duplicate key"):
        codec.check_duplicates(raw, orjson.loads(raw))


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
