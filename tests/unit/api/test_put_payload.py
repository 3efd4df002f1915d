"""The PUT's outbox payload, rendered without pydantic, is the message ``events.encode``
renders, byte for byte, and decodes as that message once the statement spliced in the
version and the participant id."""

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from overlap_api.writes.availability import encoded_change, payload_parts
from overlap_shared import events

# asyncpg's UUID, as the statement reads the event id
EVENT = asyncpg.pgproto.pgproto.UUID("4c1c1dcf-ba62-4c1d-adf1-4ce307262708")
PERSON = uuid.UUID("7abaee7f-4938-4bf7-af0f-10e82ba60f16")
TOKEN = "AbCdEfGhIjKlMnOp_-qrst"


@pytest.mark.parametrize(
    "occurred_at",
    [datetime(2026, 11, 30, 23, 38, 17, 832103, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)],
)
def test_the_rendering_is_events_encode_byte_for_byte(occurred_at: datetime) -> None:
    message_id = uuid.uuid4()
    model = events.AvailabilityChanged(
        id=message_id,
        occurred_at=occurred_at,
        event_id=EVENT,
        token=TOKEN,
        version=42,
        data=events.AvailabilityChangedData(
            participant_id=PERSON, available_slots=17, if_needed_slots=0
        ),
    )
    ours = encoded_change(message_id, occurred_at, EVENT, TOKEN, 42, PERSON, (17, 0))
    assert ours.encode() == events.encode(model)


def test_the_parts_spliced_decode_as_the_change() -> None:
    message_id, head, middle, tail = payload_parts(EVENT, TOKEN, 0b1011, 0b100)
    message = events.decode(f"{head}7{middle}{PERSON}{tail}".encode())
    assert isinstance(message, events.AvailabilityChanged)
    assert (message.id, message.event_id, message.token, message.version) == (
        message_id,
        EVENT,
        TOKEN,
        7,
    )
    assert message.data == events.AvailabilityChangedData(
        participant_id=PERSON, available_slots=3, if_needed_slots=1
    )
    assert abs((datetime.now(UTC) - message.occurred_at).total_seconds()) < 60
