"""The shared first step of every worker: what is dead-lettered, skipped or read."""

import uuid
from typing import Any, cast

import orjson
from overlap_shared import codec, events
from overlap_shared.intake import Intake, Interest
from overlap_shared.producer import ReplaceableProducer

from tests.unit.records import record


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, str, dict[str, Any]]] = []

    async def publish(self, body: Any, topic: str, **kwargs: Any) -> None:
        self.calls.append((body, topic, kwargs))


def updated(version: int) -> events.EventUpdated:
    data = events.EventUpdatedData(fields=("title",), grid_changed=False)
    return events.EventUpdated(event_id=uuid.UUID(int=1), token="tok", version=version, data=data)


def joined() -> events.ParticipantJoined:
    data = events.ParticipantJoinedData(participant_id=uuid.UUID(int=2), name="Ada")
    return events.ParticipantJoined(event_id=uuid.UUID(int=1), token="tok", version=4, data=data)


async def test_bad_records_are_parked_other_types_skipped_bodies_decoded() -> None:
    broker = Recorder()
    interest = Interest(codec.DOMAIN, frozenset({"EventUpdated"}), frozenset({"EventUpdated"}))
    intake = Intake(cast(ReplaceableProducer, broker), "g", interest)
    good = updated(3)
    bad_body = orjson.dumps({**orjson.loads(events.encode(updated(5))), "data": {"fields": 1}})
    batch = [
        record(None, offset=1),
        record(events.encode(good), offset=2),
        record(b"[]", offset=3),
        record(events.encode(joined()), offset=4),  # not this worker's: skipped
        record(orjson.dumps({**orjson.loads(events.encode(updated(2))), "type": "Nope"}), offset=5),
        record(bad_body, offset=6),
        record(b'{"a":1,"a":2}', offset=7),
    ]
    inbound = await intake.read(batch)
    assert [(i.record.offset, i.message) for i in inbound] == [(2, good)]
    parked = {
        int(kw["headers"]["source-offset"]): kw["headers"]["error"] for _, _, kw in broker.calls
    }
    assert sorted(parked) == [1, 3, 5, 6, 7]
    assert parked[5].startswith("UnknownMessage") and "duplicate key" in parked[7]
    assert {topic for _, topic, _ in broker.calls} == {"domain.dlt.g"}


async def test_a_worker_that_reads_no_bodies_gets_heads_only() -> None:
    interest = Interest(codec.DOMAIN, frozenset({"EventUpdated"}))
    intake = Intake(cast(ReplaceableProducer, Recorder()), "g", interest)
    msg = updated(3)
    (item,) = await intake.read([record(events.encode(msg))])
    assert item.message is None
    assert (item.head.id, item.head.version, item.head.token) == (msg.id, 3, "tok")
