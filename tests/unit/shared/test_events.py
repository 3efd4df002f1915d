"""The wire format of bus messages: golden samples, validation, round trips."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from overlap_shared.events import (
    DOMAIN_EVENT_CLASSES,
    DOMAIN_EVENT_TYPES,
    AvailabilityChanged,
    AvailabilityChangedData,
    DomainEvent,
    DomainEventType,
    EventCreated,
    EventCreatedData,
    EventDeleted,
    EventDeletedData,
    EventFinalized,
    EventFinalizedData,
    EventUpdated,
    EventUpdatedData,
    MalformedMessage,
    Message,
    MessageError,
    ParticipantJoined,
    ParticipantJoinedData,
    ParticipantLeft,
    ParticipantLeftData,
    ParticipantRenamed,
    ParticipantRenamedData,
    UnknownMessage,
    ViewRefreshed,
    ViewRefreshedData,
    decode,
    decode_view,
    encode,
    kafka_key,
)
from pydantic import BaseModel, ValidationError

GOLDEN = Path(__file__).parent / "golden"

EVENT_ID = UUID("3f0c2a9e-5b1d-4c7e-9a2f-0d1e2f3a4b5c")
TOKEN = "qZ3x8Yw1mN4pL7sK2vB9cT"
PARTICIPANT_ID = UUID("7b6a5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d")


def _mid(n: int) -> UUID:
    return UUID(f"00000000-0000-4000-8000-{n:012d}")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# The models the golden files must decode to (and encode from).
EXPECTED: dict[str, Message] = {
    "EventCreated": EventCreated(
        id=_mid(1),
        occurred_at=_at("2026-02-01T12:00:00+00:00"),
        event_id=EVENT_ID,
        token=TOKEN,
        version=1,
        data=EventCreatedData(
            title="Team offsite planning",
            timezone="Europe/Berlin",
            kind="dates",
            slot_minutes=30,
            slot_count=112,
            creator_user_id="user-42",
        ),
    ),
    "EventUpdated": EventUpdated(
        id=_mid(2),
        occurred_at=_at("2026-02-01T12:05:00.250+00:00"),
        event_id=EVENT_ID,
        token=TOKEN,
        version=2,
        data=EventUpdatedData(fields=("title", "day_end"), grid_changed=True),
    ),
    "ParticipantJoined": ParticipantJoined(
        id=_mid(3),
        occurred_at=_at("2026-02-01T12:10:00+00:00"),
        event_id=EVENT_ID,
        token=TOKEN,
        version=3,
        data=ParticipantJoinedData(
            participant_id=PARTICIPANT_ID, name="Zoë Ångström", user_id=None
        ),
    ),
    "ParticipantRenamed": ParticipantRenamed(
        id=_mid(4),
        occurred_at=_at("2026-02-01T12:11:00+00:00"),
        event_id=EVENT_ID,
        token=TOKEN,
        version=4,
        data=ParticipantRenamedData(participant_id=PARTICIPANT_ID, name="Zoë"),
    ),
    "AvailabilityChanged": AvailabilityChanged(
        id=_mid(5),
        occurred_at=_at("2026-02-01T12:12:30.123456+00:00"),
        event_id=EVENT_ID,
        token=TOKEN,
        version=5,
        data=AvailabilityChangedData(
            participant_id=PARTICIPANT_ID, available_slots=40, if_needed_slots=8
        ),
    ),
    "ParticipantLeft": ParticipantLeft(
        id=_mid(6),
        occurred_at=_at("2026-02-01T12:20:00+00:00"),
        event_id=EVENT_ID,
        token=TOKEN,
        version=6,
        data=ParticipantLeftData(participant_id=PARTICIPANT_ID, removed_by_admin=True),
    ),
    "EventFinalized": EventFinalized(
        id=_mid(7),
        occurred_at=_at("2026-02-01T13:00:00+00:00"),
        event_id=EVENT_ID,
        token=TOKEN,
        version=7,
        data=EventFinalizedData(start=18, end=22),
    ),
    "EventDeleted": EventDeleted(
        id=_mid(8),
        occurred_at=_at("2026-02-02T09:00:00+00:00"),
        event_id=EVENT_ID,
        token=TOKEN,
        version=8,
        data=EventDeletedData(),
    ),
}

EXPECTED_VIEW = ViewRefreshed(
    id=_mid(9),
    occurred_at=_at("2026-02-01T12:12:30.2+00:00"),
    event_id=EVENT_ID,
    token=TOKEN,
    version=5,
    data=ViewRefreshedData(changes=("ParticipantJoined", "AvailabilityChanged"), size_bytes=18342),
)


def _golden(name: str) -> bytes:
    return (GOLDEN / f"{name}.json").read_bytes()


def _golden_obj(name: str) -> dict[str, Any]:
    obj = orjson.loads(_golden(name))
    assert isinstance(obj, dict)
    return obj


def _raw(obj: Any) -> bytes:
    return orjson.dumps(obj)


# ------------------------------------------------------------------------ catalog


def test_type_names_are_the_designed_catalog() -> None:
    assert DOMAIN_EVENT_TYPES == (
        "EventCreated",
        "EventUpdated",
        "EventFinalized",
        "EventDeleted",
        "ParticipantJoined",
        "ParticipantRenamed",
        "ParticipantLeft",
        "AvailabilityChanged",
    )
    assert typing.get_args(DomainEventType) == DOMAIN_EVENT_TYPES
    assert set(DOMAIN_EVENT_CLASSES) == set(DOMAIN_EVENT_TYPES)
    for name, cls in DOMAIN_EVENT_CLASSES.items():
        assert cls.__name__ == name


def test_every_type_has_a_golden_file_and_an_expected_model() -> None:
    files = {p.stem for p in GOLDEN.glob("*.json")}
    assert set(DOMAIN_EVENT_TYPES) <= files
    assert files == {*DOMAIN_EVENT_TYPES, "ViewRefreshed"}
    assert set(EXPECTED) == set(DOMAIN_EVENT_TYPES)


# ------------------------------------------------------------------------- golden


@pytest.mark.parametrize("name", DOMAIN_EVENT_TYPES)
def test_golden_decodes_to_expected_model(name: str) -> None:
    msg = decode(_golden(name))
    assert type(msg).__name__ == name
    assert msg == EXPECTED[name]


@pytest.mark.parametrize("name", DOMAIN_EVENT_TYPES)
def test_expected_model_encodes_to_golden(name: str) -> None:
    assert orjson.loads(encode(EXPECTED[name])) == _golden_obj(name)
    assert orjson.loads(encode(decode(_golden(name)))) == _golden_obj(name)


@pytest.mark.parametrize("name", DOMAIN_EVENT_TYPES)
def test_golden_key_order_and_compact_encoding(name: str) -> None:
    raw = encode(EXPECTED[name])
    # orjson.dumps is compact; equal bytes also means the golden file's field order.
    assert raw == orjson.dumps(_golden_obj(name))
    assert decode(raw) == EXPECTED[name]


def test_view_refreshed_golden() -> None:
    assert decode_view(_golden("ViewRefreshed")) == EXPECTED_VIEW
    assert orjson.loads(encode(EXPECTED_VIEW)) == _golden_obj("ViewRefreshed")
    assert decode_view(encode(EXPECTED_VIEW)) == EXPECTED_VIEW


def test_kafka_key_is_event_id() -> None:
    for msg in [*EXPECTED.values(), EXPECTED_VIEW]:
        assert kafka_key(msg) == b"3f0c2a9e-5b1d-4c7e-9a2f-0d1e2f3a4b5c"


# ----------------------------------------------------------------------- envelope


def test_defaults_fill_id_schema_version_and_utc_now() -> None:
    before = datetime.now(UTC)
    a = EventDeleted(event_id=EVENT_ID, token=TOKEN, version=1)
    b = EventDeleted(event_id=EVENT_ID, token=TOKEN, version=1)
    assert a.id != b.id
    assert a.id.version == 4
    assert a.schema_version == 1
    assert a.type == "EventDeleted"
    assert a.data == EventDeletedData()
    assert a.occurred_at.tzinfo is UTC
    assert before <= a.occurred_at <= datetime.now(UTC)


def test_occurred_at_is_normalized_to_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    msg = EventDeleted(
        event_id=EVENT_ID,
        token=TOKEN,
        version=1,
        occurred_at=datetime(2026, 3, 1, 14, 0, tzinfo=plus2),
    )
    assert msg.occurred_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert msg.occurred_at.utcoffset() == timedelta(0)
    assert orjson.loads(encode(msg))["occurred_at"] == "2026-03-01T12:00:00Z"

    obj = _golden_obj("EventDeleted")
    obj["occurred_at"] = "2026-02-02T11:00:00+02:00"
    assert decode(_raw(obj)).occurred_at == datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def test_naive_occurred_at_is_rejected() -> None:
    with pytest.raises(ValidationError):
        EventDeleted(event_id=EVENT_ID, token=TOKEN, version=1, occurred_at=datetime(2026, 1, 1))
    obj = _golden_obj("EventDeleted")
    obj["occurred_at"] = "2026-02-02T09:00:00"
    with pytest.raises(MalformedMessage):
        decode(_raw(obj))


def test_models_are_frozen() -> None:
    msg = EXPECTED["AvailabilityChanged"]
    assert isinstance(msg, AvailabilityChanged)
    with pytest.raises(ValidationError):
        msg.version = 99  # type: ignore[misc]
    with pytest.raises(ValidationError):
        msg.data.available_slots = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        EXPECTED_VIEW.data.size_bytes = 1  # type: ignore[misc]
    # Frozen and tuple-valued, so messages are hashable (e.g. for dedup sets).
    assert len({msg, decode(encode(msg)), EXPECTED["EventUpdated"], EXPECTED_VIEW}) == 3


def test_extra_field_rejected_on_construction() -> None:
    with pytest.raises(ValidationError):
        EventDeleted(event_id=EVENT_ID, token=TOKEN, version=1, admin_key="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        ParticipantRenamedData(participant_id=PARTICIPANT_ID, name="a", extra=1)  # type: ignore[call-arg]


# ------------------------------------------------------------------------- errors


def test_errors_are_value_errors() -> None:
    assert issubclass(UnknownMessage, MessageError)
    assert issubclass(MalformedMessage, MessageError)
    assert issubclass(MessageError, ValueError)


@pytest.mark.parametrize("bad_type", ["EventExploded", "eventcreated", "ViewRefreshed", ""])
def test_unknown_type(bad_type: str) -> None:
    obj = _golden_obj("EventDeleted")
    obj["type"] = bad_type
    with pytest.raises(UnknownMessage):
        decode(_raw(obj))


def test_domain_type_on_view_topic_is_unknown() -> None:
    with pytest.raises(UnknownMessage):
        decode_view(_golden("AvailabilityChanged"))


@pytest.mark.parametrize("version", [2, 0])
def test_unsupported_schema_version_is_unknown(version: int) -> None:
    obj = _golden_obj("AvailabilityChanged")
    obj["schema_version"] = version
    with pytest.raises(UnknownMessage, match="schema_version"):
        decode(_raw(obj))
    view = _golden_obj("ViewRefreshed")
    view["schema_version"] = version
    with pytest.raises(UnknownMessage, match="schema_version"):
        decode_view(_raw(view))


@pytest.mark.parametrize("name", DOMAIN_EVENT_TYPES)
def test_extra_envelope_field_rejected(name: str) -> None:
    obj = _golden_obj(name)
    obj["admin_key_hash"] = "deadbeef"
    with pytest.raises(MalformedMessage) as info:
        decode(_raw(obj))
    assert isinstance(info.value.__cause__, ValidationError)


def test_extra_data_field_rejected() -> None:
    obj = _golden_obj("ParticipantJoined")
    obj["data"]["participant_key"] = "secret"
    with pytest.raises(MalformedMessage):
        decode(_raw(obj))
    view = _golden_obj("ViewRefreshed")
    view["data"]["view"] = {}
    with pytest.raises(MalformedMessage):
        decode_view(_raw(view))


@pytest.mark.parametrize(
    "field", ["id", "schema_version", "occurred_at", "event_id", "token", "version", "data"]
)
def test_missing_envelope_field_rejected(field: str) -> None:
    obj = _golden_obj("AvailabilityChanged")
    del obj[field]
    with pytest.raises(MalformedMessage):
        decode(_raw(obj))


def test_missing_type_rejected() -> None:
    obj = _golden_obj("AvailabilityChanged")
    del obj["type"]
    with pytest.raises(MalformedMessage):
        decode(_raw(obj))


@pytest.mark.parametrize("field", ["id", "type", "schema_version", "occurred_at", "data", "token"])
def test_missing_view_field_rejected(field: str) -> None:
    obj = _golden_obj("ViewRefreshed")
    del obj[field]
    with pytest.raises(MalformedMessage):
        decode_view(_raw(obj))


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("EventCreated", "title"),
        ("EventCreated", "slot_count"),
        ("EventUpdated", "grid_changed"),
        ("EventFinalized", "end"),
        ("ParticipantJoined", "participant_id"),
        ("ParticipantRenamed", "name"),
        ("ParticipantLeft", "removed_by_admin"),
        ("AvailabilityChanged", "if_needed_slots"),
    ],
)
def test_missing_data_field_rejected(name: str, field: str) -> None:
    obj = _golden_obj(name)
    del obj["data"][field]
    with pytest.raises(MalformedMessage):
        decode(_raw(obj))


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        ("AvailabilityChanged", ("version",), 0),
        ("AvailabilityChanged", ("version",), "5"),  # strict: no string-to-int coercion
        ("AvailabilityChanged", ("version",), 5.5),
        ("AvailabilityChanged", ("event_id",), "not-a-uuid"),
        ("AvailabilityChanged", ("token",), ""),
        ("AvailabilityChanged", ("token",), "has space"),
        ("AvailabilityChanged", ("data", "available_slots"), -1),
        ("AvailabilityChanged", ("data", "if_needed_slots"), 6000),
        ("AvailabilityChanged", ("data",), None),
        ("EventCreated", ("data", "kind"), "months"),
        ("EventCreated", ("data", "slot_minutes"), 45),
        ("EventCreated", ("data", "title"), ""),
        ("EventFinalized", ("data", "end"), 18),  # empty range
        ("EventUpdated", ("data", "grid_changed"), "yes"),
        ("ParticipantJoined", ("data", "name"), "x" * 81),
        ("ParticipantLeft", ("data", "removed_by_admin"), 1),
    ],
)
def test_invalid_values_rejected(name: str, path: tuple[str, ...], value: Any) -> None:
    obj = _golden_obj(name)
    target = obj
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(MalformedMessage):
        decode(_raw(obj))


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"{", b"\xff\xfe", b"null", b"[]", b"42", b'"EventCreated"', b"{}"],
)
def test_not_a_message_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedMessage):
        decode(raw)
    with pytest.raises(MalformedMessage):
        decode_view(raw)


def test_decode_accepts_str() -> None:
    text = _golden("EventFinalized").decode()
    assert decode(text) == EXPECTED["EventFinalized"]


# -------------------------------------------------------------------- no secrets


def _walk_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
    if model in seen:
        return []
    seen.add(model)
    names: list[str] = []
    for name, info in model.model_fields.items():
        names.append(f"{model.__name__}.{name}")
        stack: list[Any] = [info.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                names.extend(_walk_fields(tp, seen))
            stack.extend(typing.get_args(tp))
    return names


def test_no_field_name_mentions_keys_or_secrets() -> None:
    seen: set[type[BaseModel]] = set()
    names: list[str] = []
    classes: list[type[BaseModel]] = [*DOMAIN_EVENT_CLASSES.values(), ViewRefreshed]
    for cls in classes:
        names.extend(_walk_fields(cls, seen))
    # The walk reached every data model.
    assert "AvailabilityChangedData.if_needed_slots" in names
    assert "ViewRefreshedData.size_bytes" in names
    assert len(seen) == 2 * (len(DOMAIN_EVENT_TYPES) + 1)
    for qualified in names:
        field = qualified.rsplit(".", 1)[1].lower()
        for word in ("key", "secret", "hash", "password"):
            assert word not in field, qualified


# ---------------------------------------------------------------------- hypothesis

uuids = st.uuids()
versions = st.integers(min_value=1, max_value=2**53)
tokens = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    min_size=1,
    max_size=128,
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5.5))]),
)
slot_counts = st.integers(min_value=0, max_value=62 * 96)
names = st.text(min_size=1, max_size=80)


def _assert_round_trip(msg: DomainEvent) -> None:
    raw = encode(msg)
    back = decode(raw)
    assert back == msg
    assert type(back) is type(msg)
    assert encode(back) == raw
    assert back.occurred_at.utcoffset() == timedelta(0)


@given(
    id=uuids,
    occurred_at=moments,
    event_id=uuids,
    token=tokens,
    version=versions,
    participant_id=uuids,
    available=slot_counts,
    if_needed=slot_counts,
)
def test_availability_changed_round_trip(
    id: UUID,
    occurred_at: datetime,
    event_id: UUID,
    token: str,
    version: int,
    participant_id: UUID,
    available: int,
    if_needed: int,
) -> None:
    msg = AvailabilityChanged(
        id=id,
        occurred_at=occurred_at,
        event_id=event_id,
        token=token,
        version=version,
        data=AvailabilityChangedData(
            participant_id=participant_id, available_slots=available, if_needed_slots=if_needed
        ),
    )
    assert msg.occurred_at == occurred_at
    _assert_round_trip(msg)
    assert kafka_key(msg) == str(event_id).encode()


@given(
    event_id=uuids,
    token=tokens,
    version=versions,
    participant_id=uuids,
    name=names,
    user_id=st.none() | st.text(min_size=1, max_size=255),
)
def test_participant_joined_round_trip(
    event_id: UUID,
    token: str,
    version: int,
    participant_id: UUID,
    name: str,
    user_id: str | None,
) -> None:
    msg = ParticipantJoined(
        event_id=event_id,
        token=token,
        version=version,
        data=ParticipantJoinedData(participant_id=participant_id, name=name, user_id=user_id),
    )
    _assert_round_trip(msg)
