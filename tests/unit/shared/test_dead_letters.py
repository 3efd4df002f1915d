"""What a worker makes of a record it cannot process: the classification in
``events.decode``/``decode_view`` (tombstones, size, compact reasons) and the copy
``overlap_shared.dead_letters`` parks in the dead-letter topic."""

from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from faststream.kafka.message import KafkaMessage
from faststream.kafka.parser import AioKafkaBatchParser
from overlap_shared import dead_letters, events
from overlap_shared.producer import ReplaceableProducer

from tests.unit.records import record

GOLDEN = Path(__file__).parent / "golden"
LIMIT = events.MAX_MESSAGE_BYTES


def golden(name: str) -> bytes:
    return orjson.dumps(orjson.loads((GOLDEN / f"{name}.json").read_bytes()))


# --------------------------------------------------------------- classification


@pytest.mark.parametrize("decode", [events.decode, events.decode_view])
def test_a_tombstone_is_malformed(decode: Any) -> None:
    with pytest.raises(events.MalformedMessage, match="no value"):
        decode(None)


@pytest.mark.parametrize(
    ("decode", "name"), [(events.decode, "EventUpdated"), (events.decode_view, "ViewRefreshed")]
)
def test_the_size_limit_is_inclusive_and_checked_before_parsing(decode: Any, name: str) -> None:
    raw = golden(name)
    at_limit = raw + b" " * (LIMIT - len(raw))  # trailing whitespace is valid JSON
    assert decode(at_limit).type == name
    with pytest.raises(events.MalformedMessage, match=f"oversize: {LIMIT + 1} bytes"):
        decode(at_limit + b" ")
    text = at_limit.decode()[:-1] + "é"  # a str is measured in UTF-8 bytes: LIMIT + 1
    with pytest.raises(events.MalformedMessage, match="oversize"):
        decode(text)


def test_reasons_are_short_and_do_not_echo_the_input() -> None:
    obj = orjson.loads(golden("AvailabilityChanged"))
    obj |= {"event_id": "secret-1", "token": 5, "version": "x", "occurred_at": 1}
    with pytest.raises(events.MalformedMessage) as info:
        events.decode(orjson.dumps(obj))
    text = str(info.value)
    assert text.startswith("invalid message: AvailabilityChanged.")
    assert text.endswith("; and 1 more")
    assert text.count("; ") == 3
    assert "secret-1" not in text and "errors.pydantic.dev" not in text
    assert len(text) < 400


# ----------------------------------------------------------------- the copy


def test_reason_is_valid_utf8_and_bounded() -> None:
    text = dead_letters.reason(events.MalformedMessage("bad \udcff " + "x" * 1000))
    assert text.startswith("MalformedMessage: bad \\udcff x")
    assert len(text) <= dead_letters.MAX_REASON_CHARS + 10
    text.encode()  # no lone surrogate left


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, str, dict[str, Any]]] = []

    async def publish(self, body: Any, topic: str, **kwargs: Any) -> None:
        self.calls.append((body, topic, kwargs))


async def test_a_record_is_copied_as_is_with_why_and_where() -> None:
    broker = Recorder()
    await dead_letters.dead_letter(
        cast(ReplaceableProducer, broker), "availability", record(b"\xff junk"), "Bad: \udcff"
    )
    ((body, topic, kwargs),) = broker.calls
    assert (body, topic, kwargs["key"]) == (b"\xff junk", "domain.dlt.availability", b"k")
    assert kwargs["headers"] == {
        "error": "Bad: \\udcff",
        "source-topic": "domain",
        "source-partition": "3",
        "source-offset": "7",
    }


async def test_a_tombstone_stays_one() -> None:
    broker = Recorder()
    await dead_letters.dead_letter(
        cast(ReplaceableProducer, broker), "notifier", record(None), "tombstone"
    )
    ((body, _, kwargs),) = broker.calls
    assert body is None and kwargs["key"] == b"k"


async def test_an_oversize_copy_is_cut_to_fit_a_kafka_record() -> None:
    broker = Recorder()
    big_key, big_value = b"k" * (LIMIT + 5), b"v" * (10 * LIMIT)
    await dead_letters.dead_letter(
        cast(ReplaceableProducer, broker), "g", record(big_value, big_key), "oversize"
    )
    ((body, _, kwargs),) = broker.calls
    assert body == big_value[:LIMIT] and kwargs["key"] == big_key[:LIMIT]
    assert kwargs["headers"]["truncated-from"] == f"key={LIMIT + 5} value={10 * LIMIT}"


async def test_headers_faststream_cannot_read_no_longer_fail_the_batch() -> None:
    parser = AioKafkaBatchParser(KafkaMessage, None)
    batch = (
        record(b"a", headers=[("trace", b"\xff\xfe"), ("empty", None), ("ok", b"fine")]),
        record(None, headers=[("content-type", b"application/json")], offset=8),
    )
    with pytest.raises((UnicodeDecodeError, AttributeError)):
        await parser.parse_batch(batch)  # FastStream alone: the whole batch fails
    msg = await dead_letters.readable_headers(batch, parser.parse_batch)
    records = dead_letters.records(msg)
    assert [(r.value, r.key, r.offset) for r in records] == [(b"a", b"k", 7), (None, b"k", 8)]
    assert msg.batch_headers[0] == {"trace": "\ufffd\ufffd", "empty": "", "ok": "fine"}
    assert await dead_letters.the_message(msg) is msg  # bodies left undecoded
