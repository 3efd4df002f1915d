"""The invalidator's plan: per event the highest version and the union of dirty tags."""

import uuid

from overlap_invalidator.plan import plan_batch
from overlap_shared import events

from tests.unit.records import inbound

EVENT = uuid.UUID(int=1)


def test_a_batch_is_merged_per_event() -> None:
    who = uuid.UUID(int=7)
    msgs: list[events.DomainEvent] = [
        events.ParticipantLeft(
            event_id=EVENT,
            token="a",
            version=4,
            data=events.ParticipantLeftData(participant_id=who, removed_by_admin=False),
        ),
        events.EventUpdated(
            event_id=EVENT,
            token="a",
            version=5,
            data=events.EventUpdatedData(fields=("title",), grid_changed=False),
        ),
        events.ParticipantJoined(
            event_id=uuid.UUID(int=2),
            token="b",
            version=2,
            data=events.ParticipantJoinedData(participant_id=who, name="Ada", user_id="u1"),
        ),
    ]
    plan = plan_batch([inbound(m, i) for i, m in enumerate(msgs)])
    assert plan.events == {
        "a": (5, ["meta", f"participant:{who}", "users"]),
        "b": (2, []),
    }
    assert plan.users == ["u1"] and plan.meta_changed == ["a"]
    assert len(plan.occurred_at) == 3
