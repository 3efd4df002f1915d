"""The announcements a restore adds to the outbox: one per event, at its advanced version, a
valid domain event that asks every consumer for a full rebuild (the drill test follows them
through the real consumers: tests/integration/test_restore_drill.py)."""

import uuid

from overlap_shared import events
from overlap_shared.models import outbox_rows
from overlap_shared.restore_epoch import DEFAULT_GAP, announcements

EVENT = uuid.uuid4()
TOKEN = "t" * 22
RESTORED = 7 + DEFAULT_GAP


def announcement() -> events.EventUpdated:
    (msg,) = announcements([(EVENT, TOKEN, RESTORED)])
    return msg


def test_each_event_gets_one_announcement_row_on_the_domain_topic() -> None:
    (row,) = outbox_rows("overlap.domain.v1", [announcement()])
    assert row["topic"] == "overlap.domain.v1"
    assert row["key"] == str(EVENT).encode()
    assert row["headers"] == {"type": "EventUpdated"}
    decoded = events.decode(row["payload"])  # type: ignore[arg-type]
    assert isinstance(decoded, events.EventUpdated)
    assert (decoded.event_id, decoded.token, decoded.version) == (EVENT, TOKEN, RESTORED)
    assert decoded.data.grid_changed  # no consumer may apply it as a delta
