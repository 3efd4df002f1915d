"""The notifier's plan: one update per record, named per type, channel per event."""

import uuid

from overlap_notifier.plan import DOMAIN_EVENT_NAMES, plan_updates
from overlap_shared import events

from tests.unit.records import inbound


def test_each_record_becomes_an_update_on_its_event_channel() -> None:
    event = uuid.UUID(int=3)
    msg = events.EventDeleted(event_id=event, token="tok", version=9)
    item = inbound(msg, offset=4)
    ((rec, update),) = plan_updates([item], DOMAIN_EVENT_NAMES, now=12.5)
    assert rec is item.record
    assert (update.channel, update.name, update.version, update.token) == (
        f"private-event-{event}",
        "event.deleted",
        9,
        "tok",
    )
    assert (update.received_at, update.raw, update.key) == (12.5, item.record.value, b"k")
